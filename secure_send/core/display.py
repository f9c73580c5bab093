"""Text other people chose, made safe to show (a terminal, a list, a widget).

A device name travels from an anonymous enrolment request to the IT operator's
terminal (``secure-send-admin approve``) and to every colleague's app. Terminal
escape sequences, carriage returns, bidi overrides and zero-width characters in
it could redraw the screen ("OK: no pending requests"), hide or reorder text, or
make two names look alike. :func:`unsafe` says which characters are refused at
input; :func:`shown` replaces them for display (names stored before the input
check, or from any other source, are shown the same way).

The command line prints more of what others wrote (a sender's message, file names,
a reason the server gave): :func:`terminal_safe` writes each such character as its
escape (``\x1b``, ``\u202e``) instead — visible, inert, and still telling what was
there — keeping only newlines and tabs.
"""

from __future__ import annotations

import unicodedata

# Cc: C0/C1 controls (ESC, CR, BS, CSI …); Cf: format (bidi embeddings, overrides and
# isolates, zero-width characters, soft hyphen); Co/Cs: private use, surrogates; Zl/Zp:
# line and paragraph separators; Cn: unassigned (no font draws them predictably).
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp", "Cn"})
REPLACEMENT = "\ufffd"  # � — visible, and never part of a real name


def unsafe(char: str) -> bool:
    """Whether one character must not reach a screen as it is."""
    return unicodedata.category(char) in UNSAFE_CATEGORIES


def has_unsafe(text: str) -> bool:
    """Whether ``text`` holds any character :func:`unsafe` refuses."""
    return any(unsafe(c) for c in text)


def shown(text: str) -> str:
    """``text`` with every unsafe character replaced by a visible U+FFFD."""
    if not has_unsafe(text):
        return text
    return "".join(REPLACEMENT if unsafe(c) else c for c in text)


def _escaped(c: str) -> str:
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with every :func:`unsafe` character written as its escape; tabs and
    (unless ``keep_newlines`` is false) newlines are kept."""
    keep = "\n\t" if keep_newlines else ""
    if not has_unsafe(text):
        return text
    return "".join(c if c in keep or not unsafe(c) else _escaped(c) for c in text)
