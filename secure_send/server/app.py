"""The FastAPI application: wiring, JSON errors for everything, and the body cap.

Guarantees: every error response, including validation errors, unknown paths
and unexpected exceptions, is JSON ``{"code": ..., "message": ...}`` with a
stable code; no request body larger than ``max_body_bytes`` reaches a route
(413 ``too_large``, whether or not the client sent Content-Length) except a tus
PATCH, which the upload route streams to disk and bounds by the upload's own
length (and which must carry Content-Length); the server
never echoes request data or secrets into error messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from secure_send.core.audit import AuditChainError
from secure_send.core.directory.errors import DirectoryError
from secure_send.core.error_codes import ErrorCode
from secure_send.server import (
    approvals,
    downloads,
    drops,
    enrol_routes,
    file_requests,
    key_add_routes,
    malware,
    routes,
    signer_routes,
    sweeper,
    tus,
)
from secure_send.server.anonymous import (
    FAILURES_PER_MINUTE,
    PERSON_FAILURES_BURST,
    SOURCE_FAILURES_BURST,
    AnonymousGuard,
)
from secure_send.server.audit_head import AuditHeadError
from secure_send.server.auth import (
    ApiError,
    Authenticator,
    DirectoryCache,
    FailureLimiter,
    Limiter,
)
from secure_send.server.backends import open_blob_store
from secure_send.server.config import ConfigError, ServerConfig
from secure_send.server.directory_store import DamagedDirectory, PublishedDirectory
from secure_send.server.disk_full import (
    LOCK_NAME,
    NonceLedger,
    ServingLock,
    insufficient_storage,
    storage_full,
)
from secure_send.server.drop_store import DropStore
from secure_send.server.enrol_queue import EnrolQueue
from secure_send.server.fd_limit import FdWatch, poll_cap, soft_limit
from secure_send.server.metadata import MetaStore, open_audit_log, open_metadata_store
from secure_send.server.pg_directory import CHANNEL as DIRECTORY_CHANNEL
from secure_send.server.pg_directory import PgDocuments
from secure_send.server.pg_limits import CHANNEL as LOCKOUT_CHANNEL
from secure_send.server.pg_limits import Lockouts, PgBuckets
from secure_send.server.pg_locks import UploadLeases
from secure_send.server.pg_notify import PgBus
from secure_send.server.pg_store import PostgresMetadataStore
from secure_send.server.state import Busy, Notifier, ServerState
from secure_send.server.state_check import StateError, StateLock

log = logging.getLogger("secure_send.server")

AUDIT_HINT = (
    "restore the audit log from a backup, or record the loss and go on with "
    "`secure-send-server --home {home} repair --accept-audit-loss`"
)

_HTTP_CODES = {
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.TOO_LARGE,
}


def error_response(status: int, code: ErrorCode, message: str) -> JSONResponse:
    """The one error shape."""
    return JSONResponse({"code": code, "message": message}, status_code=status)


class _TooLarge(Exception):
    pass


def _streamed(scope: Scope) -> bool:
    """A tus PATCH or a signer push: their routes stream the body and bound it."""
    path = str(scope.get("path", ""))
    if scope.get("method") == "POST" and path == "/v1/signer/push":
        return True  # bounded by max_push_bytes in the route, after authentication
    return scope.get("method") == "PATCH" and path.startswith("/v1/uploads/")


class BodyLimit:
    """ASGI middleware: refuse bodies over ``limit`` bytes with 413 JSON."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _streamed(scope):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, ErrorCode.TOO_LARGE, f"request body over {self.limit} bytes")
        await response(scope, receive, send)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(ClientDisconnect)
    async def disconnected(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # the client went away mid-body (e.g. a cut PATCH): nothing was written
        return error_response(400, ErrorCode.CLIENT_DISCONNECTED, "the request body was cut off")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()[:5])
        return error_response(400, ErrorCode.INVALID_REQUEST, f"invalid request ({where})")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, ErrorCode.HTTP_ERROR)
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(DamagedDirectory)
    async def damaged(request: Request, exc: DamagedDirectory) -> JSONResponse:
        # logged once by PublishedDirectory.held; every client gets the same clear answer
        return error_response(
            503, ErrorCode.SERVER_DIRECTORY_DAMAGED, "the server's copy of the directory is damaged"
        )

    @app.exception_handler(OSError)
    @app.exception_handler(sqlite3.Error)
    @app.exception_handler(psycopg.Error)
    async def storage(request: Request, exc: Exception) -> JSONResponse:
        # a full volume is not a bug: every write answers 507 (reads do not write)
        if storage_full(exc):
            err = insufficient_storage()
            return error_response(err.status, err.code, err.message)
        log.exception("unexpected error")
        return error_response(500, ErrorCode.INTERNAL, "internal server error")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, ErrorCode.INTERNAL, "internal server error")


def _held_directory(config: ServerConfig) -> PublishedDirectory:
    try:
        directory = PublishedDirectory(config.home)
        directory.held()
    except FileNotFoundError:
        raise ConfigError(
            f"{config.home} holds no directory: make it with "
            "`secure-send-admin --home ORG server-home --to DIR`"
        ) from None
    except (DirectoryError, DamagedDirectory, ValueError) as err:
        raise ConfigError(f"the directory in {config.home} does not verify: {err}") from None
    return directory


def _shared_directory(
    config: ServerConfig, files: PublishedDirectory, meta: MetaStore
) -> PublishedDirectory:
    """Several servers over PostgreSQL: the database's copy of the directory, verified
    against this home's own anchor; the first server to start seeds it from its home's
    (verified) files. One server on SQLite: the files."""
    if not isinstance(meta, PostgresMetadataStore):
        return files
    shared = PgDocuments(meta)
    held = files.held()
    shared.seed(held.data, held.lines)  # only if the database holds none yet
    directory = PublishedDirectory(config.home, shared)
    try:
        directory.held()
    except (DirectoryError, DamagedDirectory) as err:
        raise ConfigError(f"the directory in {shared.where} does not verify: {err}") from None
    return directory


def _open_state(config: ServerConfig, files: PublishedDirectory) -> ServerState:
    """Open the database and blob store and repair what a crash left (these write)."""
    blobs = open_blob_store(config)  # first: an unreachable bucket leaves nothing open
    meta = open_metadata_store(config)  # SQLite never starts over silently: state_check
    try:
        directory = _shared_directory(config, files, meta)
        audit = open_audit_log(config, meta)
    except (AuditHeadError, AuditChainError) as err:
        meta.close()
        raise StateError(f"{err}; {AUDIT_HINT.format(home=config.home)}") from None
    except BaseException:
        meta.close()
        raise
    burst, per_minute = config.auth_failures_burst, config.auth_failures_per_minute
    limiter: Limiter = FailureLimiter(burst, per_minute)
    signer_limiter: Limiter = FailureLimiter(burst, per_minute)
    guard = AnonymousGuard(config.anonymous_burst, config.anonymous_per_minute)
    lockouts, busy = None, Busy()
    if isinstance(meta, PostgresMetadataStore):  # budgets N servers must not multiply
        limiter = auth_budget = PgBuckets(meta, "auth", burst, per_minute)
        signer_limiter = signer_budget = PgBuckets(meta, "signer-auth", burst, per_minute)
        guard.by_source = by_source = PgBuckets(
            meta, "enrol-source", SOURCE_FAILURES_BURST, FAILURES_PER_MINUTE
        )
        guard.by_person = by_person = PgBuckets(
            meta, "enrol-person", PERSON_FAILURES_BURST, FAILURES_PER_MINUTE
        )
        lockouts = Lockouts(auth_budget, signer_budget, by_source, by_person)
        busy = Busy(shared=UploadLeases(meta))  # one PATCH per upload, across servers
    nonces = NonceLedger(meta, ServingLock(config.state_dir / LOCK_NAME))
    auth = Authenticator(
        DirectoryCache(directory),
        nonces,
        limiter,
        config.clock_window,
        config.signer_key,
        signer_limiter,
    )
    state = ServerState(
        config, directory, meta, blobs, auth, DropStore(meta), EnrolQueue(meta), audit
    )
    state.busy = busy
    state.anonymous = guard
    state.lockouts = lockouts
    # each waiting long-poll holds a connection: at most a quarter of the descriptors
    state.notifier = Notifier(poll_cap(soft_limit()))
    sweeper.recover(state)
    return state


def create_app(config: ServerConfig) -> FastAPI:
    """Build the application for one server home (made by ``secure-send-admin
    server-home``; it must hold the directory documents).

    Raises:
        ConfigError: the home holds no directory, or its documents do not verify, or
            the volume of its state is full (one line, no traceback: ``cli.py``).
        StateError: the state folder cannot be used as it is (a missing or damaged
            database, an audit log that lost its end): see ``state_check``.
    """
    directory = _held_directory(config)
    lock = StateLock(config.home, exclusive=False)  # repair/quarantine wait for us to stop
    try:
        state = _open_state(config, directory)
    except (sqlite3.Error, psycopg.Error, OSError) as err:
        lock.release()
        if not storage_full(err):
            raise
        raise ConfigError(
            f"the volume holding {config.state_dir} is full (no space left on device): "
            "free some space, then start the server again"
        ) from None
    except BaseException:
        lock.release()
        raise
    meta = state.meta
    fds = state.fds = FdWatch(lambda: state.notifier.total)

    bus = PgBus(meta) if isinstance(meta, PostgresMetadataStore) else None
    shared = state.directory.documents
    handlers = {}
    if isinstance(shared, PgDocuments):  # a push through another server: count it here
        handlers[DIRECTORY_CHANNEL] = lambda _payload: shared.poke()
    if state.lockouts is not None:  # another server locked a key out: so do we
        handlers[LOCKOUT_CHANNEL] = state.lockouts.handle

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(sweeper.run(state)), asyncio.create_task(fds.run())]
        if isinstance(shared, PgDocuments):
            shared.start()
        if bus is not None:  # commits on the other servers wake our long-polls
            bus.start(asyncio.get_running_loop(), state.notifier.wake, handlers)
            state.notifier.publish = bus.publish
        try:
            yield
        finally:
            if bus is not None:
                state.notifier.publish = None
                bus.close()
            if isinstance(shared, PgDocuments):
                shared.close()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            meta.close()
            state.auth.store.close()  # the nonce ledger's serving lock
            lock.release()

    app = FastAPI(title="Secure Send drop server", version="1", lifespan=lifespan)
    app.state.server = state
    _install_handlers(app)
    routers = (
        routes,
        enrol_routes,
        key_add_routes,
        signer_routes,
        drops,
        approvals,
        file_requests,
        malware,
        downloads,
        tus,
    )
    for module in routers:
        app.include_router(module.router)
    app.add_middleware(BodyLimit, limit=config.max_body_bytes)
    return app
