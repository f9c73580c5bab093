"""Errors as people read them: one sentence saying what happened to *what they were doing*
and what to do, in the UI language; apart from it, "Details": the block a helpdesk needs.

The sentences are :mod:`secure_send.core.error_actions` over
:mod:`secure_send.core.error_sentences` (shared with the CLI), translated here. Neither
the sentence nor the details ever holds an exception's class name or message: those
are English, and a message may quote a path or a server's words. The details hold only
what identifies the event — the error code, the drop id, the local time, the app version
and the server's host — never a secret, a file name or a message's text; the same block
is what "Copy contact information" puts on the clipboard.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication

import secure_send
from secure_send.core.error_actions import DISK_SENTENCES, Action, all_sentences, sentence
from secure_send.core.error_codes import ErrorCode
from secure_send.core.error_sentences import FALLBACK, QT_TRANSLATE_NOOP, SENTENCES

CONTEXT = "errors"
# the helpdesk block's lines
CODE_LINE = QT_TRANSLATE_NOOP("errors", "Error code: %1")
NO_CODE = QT_TRANSLATE_NOOP("errors", "none")
DROP_LINE = QT_TRANSLATE_NOOP("errors", "Drop ID: %1")
TIME_LINE = QT_TRANSLATE_NOOP("errors", "Time: %1")
VERSION_LINE = QT_TRANSLATE_NOOP("errors", "Version: %1")
SERVER_LINE = QT_TRANSLATE_NOOP("errors", "Server: %1")
COPY = QT_TRANSLATE_NOOP("errors", "Co&py contact information")


def _t(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def app_version() -> str:
    """This program's version (the installed package's)."""
    return str(secure_send.__version__)


def host_of(url: str) -> str:
    """``host[:port]`` of a server URL ("" if none): never a path or a query."""
    try:
        return urlsplit(url).netloc.rpartition("@")[2]
    except ValueError:
        return ""


@dataclass(frozen=True)
class Context:
    """Where an error happened: the action, the drop it concerns, the server's host."""

    action: Action = Action.GENERAL
    drop_id: str = ""
    server: str = ""  # host[:port], see host_of
    time: str = field(default_factory=_now)  # local, ISO 8601: when it was reported


def code_of(err: BaseException) -> ErrorCode | None:
    """The error's stable code, if it has one."""
    code = getattr(err, "code", None)
    return code if isinstance(code, ErrorCode) else None


def sentence_for(err: BaseException, action: Action = Action.GENERAL) -> str:
    """The one translated sentence for ``err`` met while doing ``action``."""
    code = code_of(err)
    if code is None and isinstance(err, OSError) and action in DISK_SENTENCES:
        return _t(DISK_SENTENCES[action])
    named = str(getattr(err, "recipient", "") or "")
    text = _t(sentence(code, action, named=bool(named)))
    return text.replace("%1", named) if named else text


def code_sentence(code: ErrorCode | None, action: Action = Action.GENERAL) -> str:
    """The translated sentence for a code met while doing ``action`` (no error object:
    e.g. a listed drop's problem)."""
    return _t(sentence(code, action))


def details(err: BaseException, context: Context) -> str:
    """The helpdesk block: one "label: value" line each (labels translated, values
    as they are, so IT can search for them)."""
    code = code_of(err)
    lines = [
        (CODE_LINE, str(code) if code is not None else _t(NO_CODE)),
        (DROP_LINE, context.drop_id),
        (TIME_LINE, context.time),
        (VERSION_LINE, app_version()),
        (SERVER_LINE, context.server),
    ]
    return "\n".join(_t(label).replace("%1", value) for label, value in lines if value)


def describe(err: BaseException, context: Context | None = None) -> tuple[str, str]:
    """(one translated sentence, the helpdesk details) for an error."""
    context = context or Context()
    return sentence_for(err, context.action), details(err, context)


def status_text(err: BaseException, context: Context | None = None) -> str:
    """The sentence alone, for a page's status line (the details are in the error box)."""
    return sentence_for(err, (context or Context()).action)


def copy_label() -> str:
    """The button that copies the details block."""
    return _t(COPY)


def copy_to_clipboard(text: str) -> None:
    """Put ``text`` (a details block) on the clipboard."""
    QGuiApplication.clipboard().setText(text)


def all_messages() -> list[str]:
    """Every sentence (for the translation catalogue's completeness test)."""
    return [*SENTENCES.values(), FALLBACK, *all_sentences()]
