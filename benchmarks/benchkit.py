"""What the benchmarks share: sizes, loopback ports, and nginx as the reference server."""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import socket
import subprocess
import time
from pathlib import Path
from typing import Any


def parse_size(text: str) -> int:
    """``1G``, ``256M``, ``64K`` or bytes (binary units)."""
    match = re.fullmatch(r"(\d+)([KMGT]?)i?B?", text.strip(), re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"bad size: {text}")
    power = " KMGT".index(match.group(2).upper() or " ")
    value = int(match.group(1)) << (10 * power)
    if value <= 0:
        raise argparse.ArgumentTypeError("size must be positive")
    return value


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (``q`` in 0..1; of 10 values, p95 is the largest)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    """Wait until ``port`` accepts connections (or the process died)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start")


def start_nginx(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """nginx (Debian package) on 127.0.0.1 accepting ``PUT /upload/NAME`` into
    ``folder/put`` (dav module), one worker, no access log; returns it and its port."""
    for sub in ("body", "put", "logs"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    port = free_port()
    user = "user root root;" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(
        f"""{user}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/body;
    fastcgi_temp_path {folder}/body;
    uwsgi_temp_path {folder}/body;
    scgi_temp_path {folder}/body;
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 0;
        client_body_buffer_size 16m;
        location /upload {{
            root {folder}/put;
            dav_methods PUT DELETE;
            create_full_put_path on;
        }}
    }}
}}
"""
    )
    proc = subprocess.Popen(
        ["nginx", "-c", str(conf), "-p", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "logs" / "stderr.log").open("wb"),
        start_new_session=True,
    )
    wait_port(port, proc, "nginx")
    return proc, port


def random_file(path: Path, size: int) -> bytes:
    """Write ``size`` random bytes to ``path``; returns their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as f:
        left = size
        while left:
            block = os.urandom(min(left, 8 << 20))
            digest.update(block)
            f.write(block)
            left -= len(block)
    return digest.digest()


# ---------------------------------------------------------------- drop server + signer


def server_folder(home: Any, folder: Path, settings: str = "") -> Path:
    """The drop server's own folder for organisation ``home`` (an ``OrgHome``), as
    ``secure-send-admin server-home`` makes it; ``settings`` are top-level
    ``server.toml`` lines, written first because ``write_server_home`` appends the
    ``[signer]`` table (a key after a table header would belong to that table)."""
    from secure_send.admin.server_home import write_server_home

    folder.mkdir(parents=True, exist_ok=True)
    if settings:
        (folder / "server.toml").write_text(settings, encoding="utf-8")
    write_server_home(home, folder)
    return folder


def start_server(
    bin_dir: Path, folder: Path, log: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``secure-send-server --home FOLDER`` on a free loopback port; returns it and its URL."""
    port = free_port()
    argv = [str(bin_dir / "secure-send-server"), "--home", str(folder)]
    proc = subprocess.Popen(
        [*argv, "--listen", f"127.0.0.1:{port}"],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=env,
    )
    wait_port(port, proc, "secure-send-server")
    return proc, f"http://127.0.0.1:{port}"


def start_signer(
    bin_dir: Path, home: Path, url: str, log: Path, poll: float = 0.5
) -> subprocess.Popen[bytes]:
    """``secure-send-admin --home ORG signer --server URL --poll S``: the directory signer,
    without which enrolments made while the server runs never finish."""
    argv = [str(bin_dir / "secure-send-admin"), "--home", str(home), "signer"]
    return subprocess.Popen(
        [*argv, "--server", url, "--poll", str(poll)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
