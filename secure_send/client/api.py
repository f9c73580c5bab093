"""The drop server's HTTP API as the client uses it (``requests``).

Guarantees: every request except the public ones is signed (RFC 9421, the
device's Ed25519 key, fresh nonce); the device's keys never leave this object
and never appear in errors; every non-2xx answer becomes :class:`ServerError`
with the server's stable code; connection failures become
:class:`ConnectionLost` (callers resume, nothing is assumed to have happened).
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import nacl.signing
import requests

from secure_send.client.errors import Cancelled, ClientError, ConnectionLost, ServerError
from secure_send.client.server_policy import ServerPolicy
from secure_send.client.urls import require_secure
from secure_send.core import httpsig
from secure_send.core.encoding import EncodingError, b64u, unb64u, utc_now
from secure_send.core.error_codes import ErrorCode

TIMEOUT = (10, 120)  # connect, read (seconds)
MAX_PROOF_HASHES = 128  # a proof or range of a log below 2**64 events is far shorter
INBOX_PAGE = 500  # drops per inbox page (the server allows up to 1,000)
# Upload bodies go out in blocks of up to this size: more than an encrypted task
# (16 x 65552 bytes), so the encryptor's pieces are sent as they are, never cut.
STREAM_BLOCK = 4 * 1024 * 1024


class Reader(Protocol):
    """A body to stream: ``read`` may return fewer bytes than asked; ``b""`` means the
    source ended early (an error: the length was announced)."""

    def read(self, size: int, /) -> bytes: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Signer:
    """Who signs: ``user/device`` and the device's signing key."""

    user: str
    device: str
    key: nacl.signing.SigningKey

    def __repr__(self) -> str:  # never the key
        return f"Signer({self.user}/{self.device})"


class _Body:
    """``length`` bytes of ``src`` for requests: iterable in blocks, with a length
    (so Content-Length is sent, not chunked), reporting progress and honouring cancel."""

    def __init__(
        self,
        src: Reader,
        length: int,
        progress: Callable[[int], None],
        cancel: threading.Event | None,
    ) -> None:
        self._src, self._length, self._progress, self._cancel = src, length, progress, cancel

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        left = self._length
        while left:
            if self._cancel is not None and self._cancel.is_set():
                raise Cancelled
            block = self._src.read(min(left, STREAM_BLOCK))
            if not block:
                raise ClientError(
                    ErrorCode.FILE_CHANGED, "the file became shorter while it was sent"
                )
            left -= len(block)
            yield block
            self._progress(len(block))


class ServerApi:
    """One server, one device. Thread-safe enough for one caller per thread."""

    def __init__(
        self, base_url: str, signer: Signer | None = None, *, ca_bundle: str | None = None
    ) -> None:
        """``ca_bundle``: a PEM file of the CAs to trust for the server's certificate (an
        IT-pinned CA, policy key ``ca_bundle``); None trusts the system's CAs.

        Raises:
            ClientError: ``insecure_url`` for plain http:// to a host other than this
                machine (:mod:`.urls`).
        """
        self.base_url = require_secure(base_url).rstrip("/")
        self.signer = signer
        self.session = requests.Session()
        # passed with every request, not set on the session: requests lets
        # $REQUESTS_CA_BUNDLE / $CURL_CA_BUNDLE override a session's ``verify``, which
        # would quietly replace IT's CA with whatever the environment names
        self.ca_bundle = ca_bundle
        self._verify: str | bool = True if ca_bundle is None else ca_bundle
        # the server's clock (its HTTP ``Date``) at the last answer: only to tell a
        # person that this computer's clock is wrong, never to decide anything
        self.server_date: dt.datetime | None = None

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def _headers(self, method: str, path: str, digest: str) -> dict[str, str]:
        if self.signer is None:
            raise ClientError(ErrorCode.NOT_ENROLLED, "this device is not enrolled")
        return httpsig.sign_request(
            method,
            self.base_url + path,
            {},
            digest,
            httpsig.key_id(self.signer.user, self.signer.device),
            self.signer.key,
            utc_now(),
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        signed: bool = True,
        stream: bool = False,
        ok: tuple[int, ...] = (200, 201, 202, 204, 206),
    ) -> requests.Response:
        """Send one request; raise :class:`ServerError` unless the status is in ``ok``."""
        all_headers = dict(headers or {})
        if signed:
            all_headers |= self._headers(method, path, httpsig.content_digest(body))
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                data=body or None,
                headers=all_headers,
                timeout=TIMEOUT,
                stream=stream,
                verify=self._verify,
            )
        except requests.RequestException:
            raise ConnectionLost from None
        self.server_date = _http_date(response.headers.get("Date"))
        return _checked(response, ok)

    def json(self, method: str, path: str, obj: Any = None, **kw: Any) -> Any:
        """A request with an optional JSON body, answered with JSON."""
        body = b"" if obj is None else json.dumps(obj, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"} if obj is not None else {}
        response = self.request(method, path, body, headers, **kw)
        return response.json() if response.content else None

    def stream_patch(
        self,
        path: str,
        headers: dict[str, str],
        src: Reader,
        length: int,
        sha256: bytes,
        progress: Callable[[int], None],
        cancel: threading.Event | None,
    ) -> requests.Response:
        """A signed PATCH streaming ``length`` bytes of ``src`` whose SHA-256 is known."""
        digest = f"sha-256=:{base64.b64encode(sha256).decode()}:"
        all_headers = {**headers, **self._headers("PATCH", path, digest)}
        all_headers["Content-Length"] = str(length)
        try:
            response = self.session.patch(
                self.base_url + path,
                data=_Body(src, length, progress, cancel),
                headers=all_headers,
                timeout=TIMEOUT,
                verify=self._verify,
            )
        except requests.RequestException:
            raise ConnectionLost from None
        return _checked(response, (204,))

    # ------------------------------------------------------------ the endpoints
    # Every endpoint the client, the app, the CLI and the directory signer use, one
    # method each: the only place a "/v1/…" path is built (tests/test_layering.py).

    def policy(self) -> ServerPolicy:
        """The server's limits (``GET /v1/policy``, enrolled devices)."""
        return ServerPolicy.from_json(self.json("GET", "/v1/policy"))

    def directory_head(self) -> bytes:
        """The directory's root chain and signed header, no entry (``GET
        /v1/directory/head``, public: a device checks its organisation before enrolling)."""
        return self.request("GET", "/v1/directory/head", signed=False).content

    def directory_bundle(self) -> bytes:
        """The whole published directory (``GET /v1/directory``, enrolled devices)."""
        return self.request("GET", "/v1/directory").content

    def directory_sync(self, log_size: int, tag: str) -> bytes | None:
        """The changes after ``log_size`` (a sync delta, or a whole bundle if far
        behind); None when the snapshot tagged ``tag`` is still the latest (``304``)."""
        response = self.request(
            "GET",
            f"/v1/directory/sync?from={int(log_size)}",
            headers={"If-None-Match": f'"{tag}"'},
            ok=(200, 304),
        )
        return None if response.status_code == 304 else response.content

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """The log's consistency proof from size ``old`` to ``new`` (default: the
        latest); the hashes are the server's claim, for the caller to verify."""
        query = f"from={int(old)}" + ("" if new is None else f"&to={int(new)}")
        answer = self.json("GET", f"/v1/directory/consistency?{query}")
        if new is not None and (answer.get("from") != old or answer.get("to") != new):
            raise ClientError(ErrorCode.BAD_ANSWER, "the proof is for other log sizes")
        return _hashes(answer, "proof", MAX_PROOF_HASHES)

    def log_frontier(self, size: int) -> list[bytes]:
        """The log's compact range at ``size`` (the server's claim, to be checked)."""
        answer = self.json("GET", f"/v1/directory/frontier?size={int(size)}")
        return _hashes(answer, "hashes", MAX_PROOF_HASHES)

    def enrol(self, request: dict[str, Any]) -> dict[str, Any]:
        """Queue an enrolment request (``POST /v1/enrol``, public: the request proves
        itself); the answer holds the ticket."""
        return dict(self.json("POST", "/v1/enrol", request, signed=False))

    def enrol_status(self, ticket: str, wait: float) -> dict[str, Any]:
        """A ticket's state, waiting up to ``wait`` seconds for a change."""
        path = f"/v1/enrol/{_segment(ticket)}?wait={wait:g}"
        return dict(self.json("GET", path, signed=False))

    def key_add(self, request: dict[str, Any]) -> dict[str, Any]:
        """Queue this device's key-add request (``POST /v1/key-add``, issue 21): the
        answer holds ``status`` (``queued`` with a ``ticket``, or ``done``)."""
        return dict(self.json("POST", "/v1/key-add", request))

    def key_add_status(self, ticket: str) -> dict[str, Any]:
        """Where one of this device's key-add requests stands (``status``, ``reason``)."""
        return dict(self.json("GET", f"/v1/key-add/{_segment(ticket)}"))

    def inbox(self, wait: float, after: int, limit: int = INBOX_PAGE) -> dict[str, Any]:
        """One page of changes to this device's drops after cursor ``after``: ``drops``
        (at most ``limit``), the next ``cursor`` and whether ``more`` follow; the server
        waits up to ``wait`` s when nothing is after the cursor."""
        path = f"/v1/inbox?wait={wait:g}&after={int(after)}&limit={int(limit)}"
        return dict(self.json("GET", path))

    def sent(self) -> list[dict[str, Any]]:
        """This person's live drops, newest first."""
        return list(self.json("GET", "/v1/sent")["drops"])

    def drop(self, drop_id: str) -> dict[str, Any]:
        """A drop's signed manifest (as the server holds it: verify before use)."""
        return dict(self.json("GET", f"/v1/drops/{_segment(drop_id)}"))

    def create_drop(self, manifest: dict[str, Any]) -> None:
        """Announce a drop by its signed manifest (its blobs are uploaded next)."""
        self.json("POST", "/v1/drops", manifest)

    def commit_drop(self, drop_id: str) -> None:
        """Make a fully uploaded drop visible to its recipients (idempotent)."""
        self.json("POST", f"/v1/drops/{_segment(drop_id)}/commit")

    def recall(self, drop_id: str) -> None:
        """Withdraw a drop: its blobs are deleted and recipients told."""
        self.request("DELETE", f"/v1/drops/{_segment(drop_id)}")

    def receipts(self, drop_id: str) -> list[dict[str, Any]]:
        """The signed download receipts of one of this person's drops."""
        return list(self.json("GET", f"/v1/drops/{_segment(drop_id)}/receipts")["receipts"])

    def post_receipt(self, drop_id: str, receipt: dict[str, Any]) -> None:
        """Store this device's signed receipt for a drop it saved."""
        self.json("POST", f"/v1/drops/{_segment(drop_id)}/receipts", receipt)

    def post_approval(self, drop_id: str, decision: dict[str, Any]) -> str:
        """Post this device's signed decision (上長承認) on a drop; the new state."""
        answer = self.json("POST", f"/v1/drops/{_segment(drop_id)}/approval", decision)
        return str(answer["state"])

    def approval(self, drop_id: str) -> dict[str, Any]:
        """``{"state", "decision"}`` of a drop's approval (the decision unverified)."""
        return dict(self.json("GET", f"/v1/drops/{_segment(drop_id)}/approval"))

    def create_request(self, signed: dict[str, Any], text: bytes) -> None:
        """Store a file request: its signed document and its encrypted title and message."""
        self.json("POST", "/v1/requests", {"request": signed, "text": b64u(text)})

    def requests(self) -> list[dict[str, Any]]:
        """Open file requests that ask this person or collect into their mailboxes."""
        return list(self.json("GET", "/v1/requests")["requests"])

    def file_request(self, request_id: str, text: bool = True) -> dict[str, Any]:
        """A request's signed document and (with ``text``) its encrypted text, as the
        server holds them."""
        query = "" if text else "?text=false"
        return dict(self.json("GET", f"/v1/requests/{_segment(request_id)}{query}"))

    def remind(self, request_id: str, users: list[str] | None) -> list[str]:
        """Remind addressees who have not submitted (all of them when ``users`` is None)."""
        body = {} if users is None else {"users": users}
        path = f"/v1/requests/{_segment(request_id)}/reminders"
        return list(self.json("POST", path, body)["reminded"])

    def blob_path(self, drop_id: str, blob_id: str) -> str:
        """Where a blob is downloaded from (``GET``, with ``Range`` to resume)."""
        return f"/v1/drops/{_segment(drop_id)}/blobs/{_segment(blob_id)}"

    def create_upload(self, headers: dict[str, str]) -> str:
        """Open a tus upload (``POST /v1/uploads``); returns its path."""
        location = self.request("POST", "/v1/uploads", headers=headers).headers["location"]
        if not str(location).startswith("/v1/uploads/"):
            raise ClientError(ErrorCode.BAD_ANSWER, "the server's upload location is not ours")
        return str(location)

    def upload_offset(self, path: str, headers: dict[str, str]) -> int:
        """How much of an upload the server holds (tus ``HEAD``)."""
        answer = self.request("HEAD", path, headers=headers)
        try:
            return int(answer.headers["upload-offset"])
        except (KeyError, ValueError):
            raise ClientError(ErrorCode.BAD_ANSWER, "the server gave no upload offset") from None

    def signer_state(self) -> dict[str, Any]:
        """What the server holds of the directory (the directory signer only)."""
        return dict(self.json("GET", "/v1/signer/state"))

    def signer_queue(self, wait: float) -> dict[str, Any]:
        """Queued enrolment requests, waiting up to ``wait`` s (the signer only)."""
        return dict(self.json("GET", f"/v1/signer/queue?wait={wait:g}"))

    def signer_push(self, push: bytes) -> dict[str, Any]:
        """Hand the server a push: log events, a snapshot, enrolment results."""
        return dict(self.request("POST", "/v1/signer/push", push).json())

    def report_malware(self, drop_id: str, scanner: str) -> None:
        """Tell the server's audit this device's virus scanner found a threat in a drop
        ("clamav" or "defender"; never a file name)."""
        self.json("POST", f"/v1/drops/{_segment(drop_id)}/malware", {"scanner": scanner})


def _segment(value: str) -> str:
    """A value placed in a path: ids are plain, but never let one add a path step."""
    if not value or "/" in value or "?" in value or "#" in value or value in (".", ".."):
        raise ClientError(ErrorCode.INVALID_REQUEST, f"not a valid id: {value[:40]!r}")
    return value


def _hashes(answer: Any, key: str, limit: int) -> list[bytes]:
    """A list of base64url SHA-256 hashes from a server's JSON answer."""
    try:
        raw = answer[key]
        if not isinstance(raw, list) or len(raw) > limit:
            raise ValueError("not a short list")
        return [unb64u(h, 32) for h in raw]
    except (KeyError, TypeError, ValueError, EncodingError):
        raise ClientError(ErrorCode.BAD_ANSWER, f"the server's {key} are malformed") from None


def _http_date(value: str | None) -> dt.datetime | None:
    """An HTTP ``Date`` header as an aware datetime (None if absent or malformed)."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else None


def _checked(response: requests.Response, ok: tuple[int, ...]) -> requests.Response:
    if response.status_code in ok:
        return response
    try:
        error = response.json()
        raw, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        raw, message = "", f"HTTP {response.status_code}"
    try:
        code = ErrorCode(raw)
    except ValueError:  # not a code of ours (a proxy's page, another server): keep it visible
        code, message = ErrorCode.HTTP_ERROR, f"{message} [{raw[:40]}]" if raw else message
    raise ServerError(response.status_code, code, message)


def key_fingerprint(public_key: bytes) -> str:
    """A short, readable form of a public key (for 'this device's identity code')."""
    digest = b64u(hashlib.sha256(public_key).digest())[:20].upper()
    return "-".join(digest[i : i + 4] for i in range(0, 20, 4))
