"""``make cluster``: the scale-out drop server on this machine, for the demo ministry.

PostgreSQL, SeaweedFS S3, N ``secure-send-server`` processes and nginx in front, plus
the demo organisation's directory signer (tests/engines/cluster.py starts them, the same
code the tests use). It prints the balancer's URL and the one command that runs the
demo's walkthrough through it, then runs until Ctrl-C; everything it started stops
then, and a folder it made is removed.

    .venv/bin/python scripts/cluster.py [--servers 3] [--folder DIR]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests.engines is not installed: it lives in the checkout

from secure_send.demo import make_demo_org  # noqa: E402
from secure_send.org.home import OrgHome  # noqa: E402
from tests.engines.cluster import start_cluster  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Start, print, wait for Ctrl-C (or SIGTERM), stop."""
    parser = argparse.ArgumentParser(prog="scripts/cluster.py", description=__doc__)
    parser.add_argument("--servers", type=int, default=3, help="drop servers (default 3)")
    parser.add_argument("--folder", type=Path, help="keep everything in DIR (kept afterwards)")
    args = parser.parse_args(argv)
    if args.servers < 1:
        parser.error("--servers must be at least 1")
    folder = args.folder or Path(tempfile.mkdtemp(prefix="secure-send-cluster-"))
    folder = folder.resolve()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Ctrl-C stops it even when started from a shell that ignores SIGINT in the background
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        home = OrgHome(folder / "org")
        if not home.path.exists():
            make_demo_org(home)
        started = time.monotonic()
        cluster = start_cluster(folder / "cluster", args.servers, org_home=home)
        seconds = time.monotonic() - started
        try:
            print(f"Secure Send cluster up in {seconds:.1f} s: {cluster.url} (load balancer)")
            for i, url in enumerate(cluster.server_urls):
                print(f"  drop server {i}: {url}  log: {cluster.servers[i].log_file}")
            print(f"  PostgreSQL: {cluster.postgres.url('secure_send')}")
            print(f"  S3 (SeaweedFS): {cluster.s3.endpoint}")
            print(f"  nginx: {cluster.balancer.folder}")
            print(f"  organisation home (デモ省): {home.path}")
            print("\nRun the demo's walkthrough through it (another terminal):")
            print(f"  .venv/bin/secure-send demo --server {cluster.url} --org {home.path}")
            print("\nStop with Ctrl-C.", flush=True)
            while not stop.wait(1):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            print("\nstopping the cluster…", flush=True)
            cluster.stop()
    finally:
        if args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
