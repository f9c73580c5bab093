"""HTTP Message Signatures (RFC 9421) with Ed25519, for device-signed requests.

Every authenticated request carries three headers:

- ``Content-Digest: sha-256=:<base64>:`` (RFC 9530) over the exact body bytes;
- ``Signature-Input: sig1=("@method" "@target-uri" "content-digest");created=<unix>;
  keyid="<user>/<device>";nonce="<random>";alg="ed25519"``;
- ``Signature: sig1=:<base64 Ed25519 signature>:``.

Guarantees of :func:`verify_request`: the headers are parsed strictly (the
RFC 8941 subset above, nothing else accepted); the covered components are
exactly the required set; ``alg`` is ``ed25519``; ``created`` lies within the
window around ``now``; the body matches its digest (or, for a body streamed after
the headers, ``body=None``: the digest is well formed and returned as
``SignedRequest.body_sha256`` for the caller to compare once the body is in, before
it acts on it); and the Ed25519 signature
over the RFC 9421 signature base verifies under the key that ``keyid`` resolves
to. Replay (the nonce) is the caller's to check: it needs shared state. Errors
never contain keys or signatures. Pure functions: no network, no Qt.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

from secure_send.core.directory.model import EntryError, check_id
from secure_send.core.error_codes import ErrorCode
from secure_send.core.errors import SecureSendError

LABEL = "sig1"
ALG = "ed25519"
REQUIRED_COMPONENTS: tuple[str, ...] = ("@method", "@target-uri", "content-digest")
DEFAULT_WINDOW = dt.timedelta(seconds=300)
_PARAM_NAMES = ("created", "keyid", "nonce", "alg")

_KEY = r"[a-z*][a-z0-9_.*-]*"
_SF_STRING = r'"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\\"])*"'
_INPUT = re.compile(
    rf"(?P<label>{_KEY})=(?P<value>\((?P<items>[^()]*)\)"
    rf"(?P<params>(?:;{_KEY}=(?:-?[0-9]{{1,15}}|{_SF_STRING}))*))"
)
_ITEM = re.compile(r'"([a-z0-9@_.-]+)"')
_PARAM = re.compile(rf"(?:;(?P<key>{_KEY})=(?P<value>-?[0-9]{{1,15}}|{_SF_STRING}))")
_BYTES_MEMBER = re.compile(rf"(?P<label>{_KEY})=:(?P<b64>[A-Za-z0-9+/]*={{0,2}}):")
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
# a character a signature base must not hold: anything but printable ASCII and the LF
# that separates its lines (one regex scan; a per-character loop in Python cost every
# signed request ~10 us on the server)
_NOT_IN_BASE = re.compile(r"[^\x20-\x7e\n]")


class SignatureError(SecureSendError):
    """A request signature is missing or invalid; ``code`` is the stable API code."""

    code = ErrorCode.BAD_SIGNATURE


class UnsignedError(SignatureError):
    """The request carries no signature headers at all."""

    code = ErrorCode.UNSIGNED


class MalformedSignatureError(SignatureError):
    """The signature headers are not in the one accepted form."""


class BadSignatureError(SignatureError):
    """The signature or the body digest does not verify."""


class ClockSkewError(SignatureError):
    """``created`` is too far from the verifier's clock (too old or in the future)."""

    code = ErrorCode.CLOCK_SKEW


@dataclass(frozen=True)
class SignedRequest:
    """What a verified signature vouches for."""

    key_id: str
    user: str
    device: str
    created: int
    nonce: str
    body_sha256: bytes


_DIGEST = re.compile(r"sha-256=:([A-Za-z0-9+/]{43}=):")


def digest_value(headers: Mapping[str, str]) -> bytes:
    """The 32-byte SHA-256 a ``Content-Digest`` header claims (sha-256 only).

    Raises:
        BadSignatureError: missing or malformed.
    """
    value = {k.lower(): v for k, v in headers.items()}.get("content-digest", "").strip()
    found = _DIGEST.fullmatch(value)
    if found is None:
        raise BadSignatureError("Content-Digest must be one sha-256 value")
    return base64.b64decode(found[1], validate=True)


def key_id(user: str, device: str) -> str:
    """The key id of a device: ``"{user_id}/{device_id}"``."""
    return f"{check_id(user, 'user id')}/{check_id(device, 'device id')}"


def parse_key_id(text: str) -> tuple[str, str]:
    """Split a key id into (user, device); both must be valid ids."""
    user, sep, device = text.partition("/")
    try:
        if not sep:
            raise EntryError("no slash")
        return check_id(user, "user id"), check_id(device, "device id")
    except EntryError:
        raise MalformedSignatureError("keyid must be user/device") from None


def content_digest(body: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` value (sha-256) of ``body``."""
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode('ascii')}:"


def new_nonce() -> str:
    """A fresh random nonce (128 bits, base64url)."""
    return secrets.token_urlsafe(16)


def _sf_string(value: str) -> str:
    if not all(0x20 <= ord(c) <= 0x7E for c in value):
        raise MalformedSignatureError("signature parameter is not printable ASCII")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def signature_params(components: Sequence[str], params: Sequence[tuple[str, int | str]]) -> str:
    """Serialise the ``@signature-params`` value: inner list of components, then params."""
    items = " ".join(_sf_string(c) for c in components)
    tail = "".join(
        f";{k}={v}" if isinstance(v, int) else f";{k}={_sf_string(v)}" for k, v in params
    )
    return f"({items}){tail}"


def signature_base(components: Sequence[tuple[str, str]], params_value: str) -> bytes:
    """The RFC 9421 signature base: one ``"name": value`` line per component,
    then ``"@signature-params"``; lines joined by LF, no trailing newline."""
    lines = [f'"{name}": {value.strip()}' for name, value in components]
    lines.append(f'"@signature-params": {params_value}')
    text = "\n".join(lines)
    if _NOT_IN_BASE.search(text):
        raise MalformedSignatureError("covered component is not printable ASCII")
    return text.encode("ascii")


def _component_values(
    method: str, url: str, headers: Mapping[str, str], components: Sequence[str]
) -> list[tuple[str, str]]:
    derived = {"@method": method.upper(), "@target-uri": url}
    lower = {k.lower(): v for k, v in headers.items()}
    values = []
    for name in components:
        value = derived.get(name) if name.startswith("@") else lower.get(name)
        if value is None:
            raise MalformedSignatureError(f"covered component {name!r} is missing")
        values.append((name, value))
    return values


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body_digest: str,
    key_id: str,
    signing_key: nacl.signing.SigningKey,
    now: dt.datetime,
    nonce: str | None = None,
) -> dict[str, str]:
    """Sign a request; returns ``Content-Digest``, ``Signature-Input`` and ``Signature``.

    ``body_digest`` is :func:`content_digest` of the body (computed by the caller,
    so that streamed bodies need not be held in memory). ``headers`` are the
    request's other headers; covered header fields beyond the standard three are
    not used yet.
    """
    parse_key_id(key_id)
    params: list[tuple[str, int | str]] = [
        ("created", int(now.timestamp())),
        ("keyid", key_id),
        ("nonce", nonce or new_nonce()),
        ("alg", ALG),
    ]
    params_value = signature_params(REQUIRED_COMPONENTS, params)
    all_headers = {**headers, "content-digest": body_digest}
    base = signature_base(
        _component_values(method, url, all_headers, REQUIRED_COMPONENTS), params_value
    )
    signature = signing_key.sign(base).signature
    return {
        "Content-Digest": body_digest,
        "Signature-Input": f"{LABEL}={params_value}",
        "Signature": f"{LABEL}=:{base64.b64encode(signature).decode('ascii')}:",
    }


@dataclass(frozen=True)
class _Parsed:
    label: str
    params_value: str
    components: tuple[str, ...]
    params: dict[str, int | str]
    signature: bytes


def _parse_params(text: str) -> dict[str, int | str]:
    params: dict[str, int | str] = {}
    for match in _PARAM.finditer(text):
        key, raw = match["key"], match["value"]
        if key in params:
            raise MalformedSignatureError(f"signature parameter {key!r} repeated")
        if raw.startswith('"'):
            params[key] = re.sub(r"\\(.)", r"\1", raw[1:-1])
        else:
            params[key] = int(raw)
    return params


def _parse_headers(headers: Mapping[str, str]) -> _Parsed:
    lower = {k.lower(): v for k, v in headers.items()}
    raw_input, raw_sig = lower.get("signature-input"), lower.get("signature")
    if raw_input is None and raw_sig is None:
        raise UnsignedError("the request is not signed")
    if raw_input is None or raw_sig is None:
        raise MalformedSignatureError("Signature and Signature-Input must both be present")
    inp = _INPUT.fullmatch(raw_input.strip())
    sig = _BYTES_MEMBER.fullmatch(raw_sig.strip())
    if inp is None or sig is None:
        raise MalformedSignatureError("signature headers are malformed")
    if inp["label"] != sig["label"]:
        raise MalformedSignatureError("Signature and Signature-Input labels differ")
    items = inp["items"].split(" ") if inp["items"] else []
    matches = [_ITEM.fullmatch(i) for i in items]
    if not all(matches):
        raise MalformedSignatureError("covered components are malformed")
    try:
        signature = base64.b64decode(sig["b64"], validate=True)
    except (binascii.Error, ValueError):
        raise MalformedSignatureError("signature is not base64") from None
    return _Parsed(
        label=inp["label"],
        params_value=inp["value"],
        components=tuple(m[1] for m in matches if m),
        params=_parse_params(inp["params"]),
        signature=signature,
    )


def _check_params(parsed: _Parsed, required: Sequence[str]) -> tuple[int, str, str]:
    if sorted(parsed.components) != sorted(required) or len(set(parsed.components)) != len(
        parsed.components
    ):
        raise MalformedSignatureError("covered components are not the required set")
    params = parsed.params
    if set(params) != set(_PARAM_NAMES):
        raise MalformedSignatureError("signature parameters must be created, keyid, nonce, alg")
    created, keyid, nonce, alg = (params[n] for n in _PARAM_NAMES)
    if alg != ALG:
        raise MalformedSignatureError("signature algorithm must be ed25519")
    if not isinstance(created, int) or not isinstance(keyid, str) or not isinstance(nonce, str):
        raise MalformedSignatureError("signature parameters have the wrong types")
    if not _NONCE.fullmatch(nonce):
        raise MalformedSignatureError("nonce must be 16-64 base64url characters")
    return created, keyid, nonce


def _check_time(created: int, now: dt.datetime, window: dt.timedelta) -> None:
    delta = created - now.timestamp()
    if delta > window.total_seconds():
        raise ClockSkewError("request is dated in the future (clock skew): check the device clock")
    if -delta > window.total_seconds():
        raise ClockSkewError("request is too old (clock skew): check the device clock")


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    resolve_key: Callable[[str, str], bytes],
    *,
    now: dt.datetime,
    window: dt.timedelta = DEFAULT_WINDOW,
    required: Sequence[str] = REQUIRED_COMPONENTS,
) -> SignedRequest:
    """Verify a signed request; see the module docstring for what is guaranteed.

    ``resolve_key(user, device)`` returns the device's Ed25519 public key or raises
    (its errors propagate, e.g. an unknown or revoked device); it is called only
    after the parse, time and digest checks passed.

    Raises:
        SignatureError: its subclass (and ``code``) says what failed.
    """
    parsed = _parse_headers(headers)
    created, keyid, nonce = _check_params(parsed, required)
    user, device = parse_key_id(keyid)
    _check_time(created, now, window)
    claimed = digest_value(headers)
    if body is not None and not hmac.compare_digest(claimed, hashlib.sha256(body).digest()):
        raise BadSignatureError("Content-Digest does not match the body (sha-256 required)")
    base = signature_base(_component_values(method, url, headers, required), parsed.params_value)
    public_key = resolve_key(user, device)
    try:
        nacl.signing.VerifyKey(public_key).verify(base, parsed.signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
        raise BadSignatureError("request signature does not verify") from None
    return SignedRequest(keyid, user, device, created, nonce, claimed)
