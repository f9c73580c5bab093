"""nginx (Debian's) as the cluster's load balancer: its own prefix, configuration, logs,
temp paths and pid file in one folder, a free loopback port, never root for the traffic.

The configuration is the one docs/deployment.md ("High availability") shows for a
production balancer, with only the addresses differing: round-robin over the drop
servers, streaming in both directions (a tus PATCH body and a download pass through
as they come, never spooled to a temp file), passive health checks, and retries on
another server only when a request cannot have reached the first one.

As root, nginx runs as ``nobody``: its folder is made under /tmp (pytest's folders are
root-only) and given to that user, like the PostgreSQL launcher's.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from secure_send.server.config import ServerConfig
from tests.engines.postgres import free_port

NGINX = "/usr/sbin/nginx"
# a failed server is left alone this long before one request tries it again
FAIL_TIMEOUT_SECONDS = 10


def nginx_binary() -> str | None:
    """Debian's nginx, or None when the package (nginx or nginx-light) is missing."""
    if os.access(NGINX, os.X_OK):
        return NGINX
    return shutil.which("nginx")


# every location proxies alike: only the body limit differs
_PROXY = """\
            proxy_pass http://drop_servers;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # the clients sign the URL they see: the servers check signatures against
            # their public_url (this balancer's URL) and the path nginx passes through
            # untouched, whatever Host header reaches them
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # stream: uploads reach the server as they arrive, downloads the client
            proxy_request_buffering off;
            proxy_buffering off;
            # a dead server refuses the connection at once; an inbox long-poll holds
            # a request for up to 25 s, so reads may take longer than that
            proxy_connect_timeout 2s;
            proxy_read_timeout 120s;
            proxy_send_timeout 120s;
            # try another server only when the request cannot have been handled:
            # never resend a POST/PATCH that a server may have acted on
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;"""


def render_config(listen_port: int, servers: list[str], limits: ServerConfig) -> str:
    """nginx.conf for a balancer on 127.0.0.1:``listen_port`` over ``servers``
    (``host:port`` each) with the body limits of the servers' ``limits``; paths are
    relative to nginx's ``-p`` prefix."""
    upstream = "\n".join(
        f"        server {s} max_fails=1 fail_timeout={FAIL_TIMEOUT_SECONDS}s;" for s in servers
    )
    return f"""\
worker_processes 1;
pid nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 1024; }}

http {{
    access_log logs/access.log;
    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;

    upstream drop_servers {{
        # round-robin (nginx's default); a server that fails once is skipped for
        # fail_timeout, then tried again (passive health checks)
{upstream}
        keepalive 16;
    }}

    server {{
        listen 127.0.0.1:{listen_port};
        # one request body (max_body_bytes): the servers refuse more anyway, nginx
        # says no before it reaches them
        client_max_body_size {limits.max_body_bytes};

        location / {{
{_PROXY}
        }}

        # creating an upload: its own exact location, else nginx would answer the
        # prefix location's "301 to /v1/uploads/" for it
        location = /v1/uploads {{
{_PROXY}
        }}

        # a tus PATCH carries the rest of a blob in one body (max_file_bytes)
        location /v1/uploads/ {{
            client_max_body_size {limits.max_file_bytes};
{_PROXY}
        }}

        # the directory signer's push may be a whole directory (max_push_bytes)
        location = /v1/signer/push {{
            client_max_body_size {limits.max_push_bytes};
{_PROXY}
        }}
    }}
}}
"""


@dataclass
class Balancer:
    """A running nginx; ``stop()`` ends it and removes its folder."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """What clients use (and the servers' public_url)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def error_log(self) -> Path:
        """nginx's error log (failed upstream connections are logged here)."""
        return self.folder / "logs" / "error.log"

    def stop(self) -> None:
        """Fast shutdown (SIGTERM to the master, which ends its workers), then remove."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _unprivileged() -> pwd.struct_passwd | None:
    return pwd.getpwnam("nobody") if os.geteuid() == 0 else None


def _wait_listening(balancer: Balancer, timeout: float) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while True:
        if balancer.process.poll() is not None:
            raise RuntimeError(f"nginx exited: {_tail(balancer.error_log)}")
        try:
            socket.create_connection(("127.0.0.1", balancer.port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not listen: {_tail(balancer.error_log)}") from None
            time.sleep(0.05)


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no error log)"


def start_balancer(servers: list[str], limits: ServerConfig, timeout: float = 20) -> Balancer:
    """nginx in front of ``servers`` on a free loopback port.

    Raises:
        RuntimeError: nginx is not installed, or it did not start (its log attached).
    """
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (Debian package nginx-light)")
    folder = Path(tempfile.mkdtemp(prefix="secure-send-nginx-"))
    for sub in ("logs", "temp"):
        (folder / sub).mkdir()
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(render_config(port, servers, limits))
    user = _unprivileged()
    if user is not None:
        for path in (folder, folder / "logs", folder / "temp", conf):
            os.chown(path, user.pw_uid, user.pw_gid)
    # -e: the error log from the first line (before nginx.conf is read, nginx would
    # write to the build's default, /var/log/nginx, which nobody may not write)
    command = [binary, "-p", str(folder), "-c", "nginx.conf", "-e", "logs/error.log"]
    command += ["-g", "daemon off;"]
    # as nobody itself (not through runuser): SIGTERM then reaches nginx's master
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        user=user.pw_uid if user else None,
        group=user.pw_gid if user else None,
        extra_groups=[] if user else None,
    )
    balancer = Balancer(port, folder, process)
    try:
        _wait_listening(balancer, timeout)
    except RuntimeError:
        balancer.stop()
        raise
    return balancer
