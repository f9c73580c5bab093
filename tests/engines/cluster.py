"""The scale-out drop server on one machine: PostgreSQL (metadata), SeaweedFS S3 (blobs),
N ``secure-send-server --config FILE`` processes sharing both, nginx in front as the load
balancer, and the organisation's directory signer talking to the balancer — everything
on 127.0.0.1, free ports, one folder. The tests (tests/server/test_cluster.py) and
``make cluster`` (scripts/cluster.py) start it with this one function.

Each server has its own home folder (``write_server_home`` from the organisation home:
the trust anchor, the signed directory, the pinned signer key) and its own config file
naming the shared ``[database]`` and ``[storage]``. The servers believe X-Forwarded-For
only from the balancer (127.0.0.1) and check signatures against the balancer's URL
(``public_url``): that is the URL the clients sign.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from secure_send.admin.server_home import write_server_home
from secure_send.org.home import OrgHome
from secure_send.server.config import ServerConfig
from tests.engines.nginx import Balancer, start_balancer
from tests.engines.postgres import Postgres, free_port, start_postgres
from tests.engines.seaweed import S3Server, start_s3

DATABASE, BUCKET = "secure_send", "secure-send"
# an access-log line of uvicorn: ... "GET /v1/inbox HTTP/1.1" 200
# (the client address is the forwarded one, port 0, when X-Forwarded-For was believed)
_REQUEST = re.compile(r'(\S+) - "([A-Z]+) (\S+) HTTP/1\.[01]" (\d{3})')


@dataclass
class DropServer:
    """One ``secure-send-server`` process of the cluster."""

    index: int
    port: int
    config_file: Path
    log_file: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server itself, bypassing the balancer."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        """Start the process and wait until it answers."""
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process (its output appended to ``log_file``)."""
        command = [sys.executable, "-m", "secure_send.server.cli", "--config"]
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, str(self.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 30) -> None:
        """Wait for ``GET /v1/health`` to answer 200; raise if the process exits."""
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"drop server {self.index} exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"drop server {self.index} did not start:\n{self.log_tail()}")
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Signal the process and wait for it (SIGKILL if SIGTERM is not enough)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def requests(self) -> list[tuple[str, str, str, int]]:
        """(client, method, path, status) of each request it logged, health checks
        left out."""
        text = self.log_file.read_text(encoding="utf-8", errors="replace")
        found = ((m[1], m[2], m[3], int(m[4])) for m in _REQUEST.finditer(text))
        return [r for r in found if r[2] != "/v1/health"]

    def log_tail(self) -> str:
        """The end of its log, for error messages."""
        return self.log_file.read_text(encoding="utf-8", errors="replace")[-3000:]


@dataclass
class Cluster:
    """A running cluster; ``stop()`` ends every process it started."""

    folder: Path
    org_home: OrgHome
    postgres: Postgres
    s3: S3Server
    servers: list[DropServer]
    balancer: Balancer
    signer: subprocess.Popen[bytes] | None = None
    _stack: ExitStack = field(default_factory=ExitStack)

    @property
    def url(self) -> str:
        """The balancer: the one URL clients, the signer and the demo use."""
        return self.balancer.url

    @property
    def server_urls(self) -> list[str]:
        """Each server directly (for tests and health checks)."""
        return [s.url for s in self.servers]

    def kill(self, i: int) -> None:
        """SIGKILL server ``i`` (a crash: no shutdown, open requests cut)."""
        self.servers[i].stop(signal.SIGKILL)

    def restart(self, i: int) -> None:
        """Stop server ``i`` if it runs, then start it again on the same port."""
        self.servers[i].stop()
        self.servers[i].start()

    def stop(self) -> None:
        """Stop the signer, the balancer, the servers, S3 and PostgreSQL."""
        self._stack.close()


def _server_config(
    home: Path,
    port: int,
    public_url: str,
    pg: Postgres,
    s3: S3Server,
    database_url: str,
    settings: Mapping[str, int | str],
) -> str:
    """The config file of one server (``secure-send-server --config FILE``);
    ``settings`` are more top-level keys (e.g. ``sweep_interval_seconds``)."""
    pinned = tomllib.loads((home / "server.toml").read_text(encoding="utf-8"))
    q = json.dumps  # a JSON string is a valid TOML basic string (and a number a number)
    extra = "".join(f"{key} = {q(value)}\n" for key, value in settings.items())
    return f"""\
# written by tests/engines/cluster.py: one drop server of the cluster
home = {q(str(home))}
host = "127.0.0.1"
port = {port}
public_url = {q(public_url)}
trusted_proxies = "127.0.0.1"
{extra}
[signer]
public_key = {q(pinned["signer"]["public_key"])}

[database]
url = {q(database_url)}
password_file = {q(str(pg.password_file))}

[storage]
kind = "s3"
endpoint = {q(s3.endpoint)}
bucket = {q(BUCKET)}
region = {q(s3.region)}
access_key_file = {q(str(s3.access_key_file))}
secret_key_file = {q(str(s3.secret_key_file))}
"""


def _start_signer(home: OrgHome, url: str, log_file: Path) -> subprocess.Popen[bytes]:
    """``secure-send-admin signer`` against the balancer: IT's side of the directory."""
    command = [sys.executable, "-m", "secure_send.admin.cli", "--home", str(home.path)]
    with log_file.open("ab") as log:
        return subprocess.Popen(
            [*command, "signer", "--server", url, "--poll", "1"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _stop_process(process: subprocess.Popen[bytes], grace: float = 15) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_cluster(
    folder: Path,
    servers: int = 3,
    *,
    org_home: OrgHome,
    settings: Mapping[str, int | str] | None = None,
    restore: Callable[[Postgres, S3Server], None] | None = None,
) -> Cluster:
    """Start the cluster for ``org_home``'s organisation in ``folder``; on any failure,
    stop what was started and raise (RuntimeError with the failing part's log).

    ``settings``: more top-level keys of every server's config file. ``restore``:
    called with the new PostgreSQL and S3 once the (empty) database ``DATABASE`` and
    bucket ``BUCKET`` exist and before any server starts, to fill them from a backup
    (the restore drill, tests/server/test_backup_restore.py): the servers then start
    on the restored state, as IT's would."""
    folder.mkdir(parents=True, exist_ok=True)
    limits = ServerConfig(home=folder)  # the defaults every server runs with
    with ExitStack() as stack:
        pg = start_postgres()  # its own folder under /tmp: it runs as nobody under root
        stack.callback(pg.stop)
        database_url = pg.create_database(DATABASE)
        s3 = start_s3(folder / "s3")
        stack.callback(s3.stop)  # (S3Server.stop: a no-op once the process is gone)
        # SeaweedFS takes 15-25 s to stop gracefully; the blobs of a cluster that is
        # being thrown away need no graceful stop
        stack.callback(_stop_process, s3.process, 2)
        s3.create_bucket(BUCKET)
        if restore is not None:
            restore(pg, s3)
        ports = [free_port() for _ in range(servers)]
        balancer = start_balancer([f"127.0.0.1:{p}" for p in ports], limits)
        stack.callback(balancer.stop)
        drop_servers = []
        for i, port in enumerate(ports):
            place = folder / "servers" / f"s{i}"
            (place / "home").mkdir(parents=True, exist_ok=True)
            # each server its own home and pinned anchor; the signed directory the
            # signer pushes (to whichever server the balancer picks) is shared in
            # PostgreSQL (server/pg_directory.py), seeded by the first server to start
            write_server_home(org_home, place / "home")
            config = place / "server.toml"
            config.write_text(
                _server_config(
                    place / "home", port, balancer.url, pg, s3, database_url, settings or {}
                ),
                encoding="utf-8",
            )
            server = DropServer(i, port, config, place / "server.log")
            stack.callback(server.stop)
            server.launch()  # all at once: each takes a second or two to import
            drop_servers.append(server)
        for server in drop_servers:
            server.wait_ready()
        signer = _start_signer(org_home, balancer.url, folder / "signer.log")
        stack.callback(_stop_process, signer)
        cluster = Cluster(folder, org_home, pg, s3, drop_servers, balancer, signer)
        cluster._stack = stack.pop_all()
        return cluster
    raise AssertionError("unreachable")  # ExitStack does not swallow exceptions
