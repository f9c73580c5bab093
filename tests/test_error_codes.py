"""One vocabulary of errors: every code is an ErrorCode, worded once, in English and Japanese.

The server's answers, the client's exceptions, ``--json`` output, the app's sentences
and the CLI's lines all use :class:`ErrorCode`; these tests fail when a code is added
without a sentence or a translation, spelled two ways, or written as a bare string.
"""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from secure_send.core.error_codes import ErrorCode
from secure_send.core.error_sentences import CLI_LABELS, FALLBACK, SENTENCES

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "secure_send" / "gui" / "i18n" / "secure_send_ja.ts"
# Whatever raises or answers with a code takes it as its first (or, after an HTTP
# status, second) argument.
CODE_TAKERS = {
    "ApiError": 1,
    "ServerError": 1,
    "error_response": 1,
    "unauthorized": 0,
    "ClientError": 0,
    "DangerousDrop": 0,
    "DirectoryUnverified": 0,
    "RecipientError": 0,
    "EnrolmentWaiting": 0,
}


def _japanese() -> dict[str, str]:
    tree = ET.parse(CATALOGUE)  # noqa: S314 - our own committed catalogue
    found = {}
    for context in tree.iter("context"):
        if context.findtext("name") != "errors":
            continue
        for message in context.iter("message"):
            translation = message.find("translation")
            if translation is not None and translation.get("type") != "unfinished":
                found[message.findtext("source") or ""] = translation.text or ""
    return found


def test_every_code_has_an_english_and_a_japanese_sentence() -> None:
    assert set(SENTENCES) == set(ErrorCode)
    japanese = _japanese()
    missing = [c for c in ErrorCode if not japanese.get(SENTENCES[c], "").strip()]
    assert missing == []
    assert japanese.get(FALLBACK)


@pytest.mark.parametrize("code", sorted(ErrorCode))
def test_a_sentence_reads_as_one(code: ErrorCode) -> None:
    text = SENTENCES[code]
    if code in CLI_LABELS:  # "label: detail" lines: lower case, no full stop
        assert text == text.lower() or text.startswith("invalid")
        assert not text.endswith(".")
    else:
        assert text[0].isupper()
        assert text.endswith(".")


def test_no_code_is_spelled_two_ways() -> None:
    words = [frozenset(c.value.split("_")) for c in ErrorCode]
    assert len(set(words)) == len(words)  # e.g. revoked_device and device_revoked
    assert len({c.value for c in ErrorCode}) == len(ErrorCode)


def _bare_codes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in CODE_TAKERS and len(node.args) > CODE_TAKERS[name]:
            arg = node.args[CODE_TAKERS[name]]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append(f"{path}:{node.lineno}: {arg.value!r}")
    return found


def test_codes_are_never_bare_strings_in_the_product() -> None:
    bare = [hit for p in sorted((ROOT / "secure_send").rglob("*.py")) for hit in _bare_codes(p)]
    assert bare == []


def test_the_check_above_finds_a_bare_code(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('raise ClientError("connection_lost", "x")\n', encoding="utf-8")
    assert len(_bare_codes(sample)) == 1


def test_an_unknown_server_code_becomes_http_error_and_stays_visible() -> None:
    import requests

    from secure_send.client.api import _checked
    from secure_send.client.errors import ServerError

    response = requests.Response()
    response.status_code = 418
    response._content = b'{"code": "teapot", "message": "short and stout"}'
    with pytest.raises(ServerError) as caught:
        _checked(response, (200,))
    assert caught.value.code is ErrorCode.HTTP_ERROR
    assert "teapot" in str(caught.value)
    assert caught.value.status == 418
