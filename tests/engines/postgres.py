"""A real PostgreSQL server for the tests: Debian's binaries, its own data folder, a free
loopback port, password authentication (the password in a file, as ``server.toml``'s
``[database] password_file`` names it).

``initdb`` refuses to run as root, so as root the server runs as the unprivileged
``nobody``; its folder is made under /tmp (not pytest's root-only tmp folder) and given
to that user. ``fsync=off``: a test database need not survive a power cut, and every
commit waiting for the disk made the scale-out suite several times slower.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "secure_send"


def pg_bin() -> Path | None:
    """The folder of Debian's PostgreSQL binaries (the newest installed), or None."""
    root = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in root.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Postgres:
    """A running server; ``stop()`` ends it and removes its folder."""

    host: str
    port: int
    user: str
    password_file: Path
    folder: Path
    bin: Path
    run_as: str | None = None
    _created: set[str] = field(default_factory=set)

    def url(self, database: str) -> str:
        """The URL of one database, without the password (as server.toml holds it)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def password(self) -> str:
        """The superuser's password (read from its file, like the server does)."""
        return self.password_file.read_text(encoding="utf-8").strip()

    def connect(self, database: str = "postgres") -> object:
        """A psycopg connection (autocommit) for tests to look inside."""
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password(),
            dbname=database,
            autocommit=True,
        )

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password(),
            dbname="postgres",
            autocommit=True,
        ) as db:
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._created.add(name)
        return self.url(name)

    def unique_database(self, prefix: str = "t") -> str:
        """A fresh database with a random name; returns its URL."""
        return self.create_database(f"{prefix}_{secrets.token_hex(6)}")

    def _ctl(self, *args: str) -> list[str]:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), *args]
        if self.run_as:
            return ["runuser", "-u", self.run_as, "--", *command]
        return command

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder."""
        subprocess.run(
            self._ctl("stop", "-m", "immediate", "-w", "-t", "30"),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def _unprivileged() -> str | None:
    """The user to run PostgreSQL as: ``nobody`` when we are root, else ourselves."""
    return "nobody" if os.geteuid() == 0 else None


def start_postgres(folder: Path | None = None, timeout: float = 60) -> Postgres:
    """initdb a new cluster in ``folder`` (default: a new folder under /tmp) and start it.

    Raises:
        RuntimeError: PostgreSQL is not installed, or it did not start (its log attached).
    """
    binaries = pg_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql)")
    run_as = _unprivileged()
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="secure-send-pg-"))
    folder.mkdir(parents=True, exist_ok=True)
    password_file = folder / "password"
    password_file.write_text(secrets.token_urlsafe(24), encoding="utf-8")
    password_file.chmod(0o600)
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir(exist_ok=True)
    # initdb reads the password from a copy the server's user may read; removed after
    pwfile = folder / "initdb-password"
    shutil.copy(password_file, pwfile)
    if run_as:
        entry = pwd.getpwnam(run_as)
        for path in (folder, sockets, pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    prefix = ["runuser", "-u", run_as, "--"] if run_as else []
    try:
        subprocess.run(
            [
                *prefix,
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            check=True,
        )
    except subprocess.CalledProcessError as err:
        raise RuntimeError(f"initdb failed: {err.stderr.decode(errors='replace')}") from None
    finally:
        pwfile.unlink(missing_ok=True)
    port = free_port()
    options = " ".join(
        [
            f"-p {port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={sockets}",
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            "-c max_connections=300",
            "-c shared_buffers=64MB",
        ]
    )
    pg = Postgres("127.0.0.1", port, SUPERUSER, password_file, folder, binaries, run_as)
    started = subprocess.run(
        pg._ctl("start", "-w", "-t", str(int(timeout)), "-l", str(folder / "log"), "-o", options),
        capture_output=True,
        check=False,
    )
    if started.returncode != 0:
        log = ""
        with contextlib.suppress(OSError):
            log = (folder / "log").read_text(errors="replace")[-3000:]
        pg.stop()
        raise RuntimeError(f"PostgreSQL did not start: {started.stderr!r}\n{log}")
    deadline = time.monotonic() + timeout
    while True:  # pg_ctl -w waited for the socket; make sure TCP answers too
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                pg.stop()
                raise RuntimeError("PostgreSQL did not answer on TCP") from None
            time.sleep(0.1)
    return pg
