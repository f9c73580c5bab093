"""What ``bench_collection.py`` measures, one function each: a desk opening its tracking
view, an idle inbox poll (server CPU, bytes on the wire) and saving every submission
(run in a child process: its peak RSS is the figure)."""

from __future__ import annotations

import contextlib
import cProfile
import io
import json
import os
import pstats
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.collection_state import open_session, profile_of, trimmed
from secure_send.client import file_requests, listing, request_status
from secure_send.client.api import ServerApi
from secure_send.client.save_all import save_all
from secure_send.client.session import Session

MB = 10**6
TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- the desk's view


@dataclass
class Open:
    """One opening of the tracking view, in seconds per step."""

    steps: dict[str, float] = field(default_factory=dict)
    items: int = 0  # inbox items listed
    submitted: int = 0
    pending: int = 0

    @property
    def total(self) -> float:
        return sum(self.steps.values())


def open_view(session: Session, request_id: str) -> Open:
    """What ``secure-send request status`` and the app's tracking view do: sync the
    directory (a 304 once it is current), fetch and verify the request, list and verify
    the inbox, and build the status from it."""
    out = Open()
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        out.steps[name] = now - clock
        clock = now

    directory = session.directory()
    step("directory")
    view = file_requests.fetch(session, directory, request_id, text=False)
    step("fetch")
    items, _ = listing.inbox(session, directory)
    step("inbox")
    state = request_status.status(view.request, items, directory.verified.by_id())
    step("status")
    out.items, out.submitted, out.pending = len(items), len(state.submitted), len(state.pending)
    return out


def cold_open(state_dir: Path, desk: str, request_id: str) -> Open:
    """A fresh session each time, as one CLI run opens it (imports already loaded)."""
    started = time.perf_counter()
    session = open_session(profile_of(state_dir, desk))
    opened = time.perf_counter() - started
    try:
        result = open_view(session, request_id)
    finally:
        session.close()
    result.steps = {"session": opened, **result.steps}
    return result


def opens(state_dir: Path, desk: str, request_id: str, count: int) -> dict[str, list[Open]]:
    """``count`` cold opens and ``count`` opens in one warm session (as the app), after
    one untimed open (the desk's first sync fetches the whole directory once)."""
    cold_open(state_dir, desk, request_id)
    cold = [cold_open(state_dir, desk, request_id) for _ in range(count)]
    session = open_session(profile_of(state_dir, desk))
    try:
        warm = [open_view(session, request_id) for _ in range(count)]
    finally:
        session.close()
    return {"cold": cold, "warm": warm}


def profile_open(state_dir: Path, desk: str, request_id: str, lines: int = 18) -> str:
    """cProfile of one cold open: where the time goes."""
    profiler = cProfile.Profile()
    profiler.enable()
    cold_open(state_dir, desk, request_id)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(lines)
    return trimmed(text.getvalue())


# ---------------------------------------------------------------- idle polls


class Relay:
    """A loopback TCP relay in front of the server that counts the bytes each way
    (the HTTP request and response as sent, headers included; not TCP/IP framing).
    The client signs the relay's URL and the server sees the same ``Host``."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.up = 0  # client -> server
        self.down = 0  # server -> client
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        try:
            while block := src.recv(65536):
                dst.sendall(block)
                with self._lock:
                    if up:
                        self.up += len(block)
                    else:
                        self.down += len(block)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._listener.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` (all its threads) and of its live children."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        this, parent = int(stat.parent.name), int(fields[1])
        if this == pid or parent == pid:
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def idle_polls(session: Session, server_pid: int, server_port: int, polls: int) -> dict[str, Any]:
    """``polls`` inbox polls with nothing new after the desk's cursor (``GET
    /v1/inbox?wait=0&after=CURSOR``, signed, one kept-alive connection, through the
    relay): the server's CPU per poll beyond its idle CPU over as long, and the bytes
    of one poll each way."""
    directory = session.directory()
    _, cursor = listing.inbox(session, directory)
    relay = Relay(server_port)
    api = ServerApi(relay.url, session.api.signer)
    try:
        api.inbox(0, cursor)  # connect, warm up
        up0, down0 = relay.up, relay.down
        cpu0, wall0 = cpu_seconds(server_pid), time.perf_counter()
        for _ in range(polls):
            answer = api.inbox(0, cursor)
        wall = time.perf_counter() - wall0
        cpu = cpu_seconds(server_pid) - cpu0
        up, down = (relay.up - up0) / polls, (relay.down - down0) / polls
    finally:
        api.close()
        relay.close()
    idle0 = cpu_seconds(server_pid)
    time.sleep(wall)
    idle = cpu_seconds(server_pid) - idle0
    started = time.perf_counter()
    listing.inbox(session, directory, after=cursor)
    client_s = time.perf_counter() - started
    return {
        "polls": polls,
        "cursor": cursor,
        "drops_answered": len(answer.get("drops", [])),
        "server_cpu_ms_per_poll": max(cpu - idle, 0.0) / polls * 1000,
        "server_cpu_ms_per_poll_raw": cpu / polls * 1000,
        "server_idle_cpu_ms_same_wall": idle * 1000,
        "wall_ms_per_poll": wall / polls * 1000,
        "request_bytes": up,
        "response_bytes": down,
        "client_listing_s": client_s,
    }


# ---------------------------------------------------------------- save all


def save_in_child(
    script: Path, state_dir: Path, desk: str, request_id: str, target: Path, workers: int
) -> dict[str, Any]:
    """Run :func:`save_child` in a fresh interpreter; its JSON answer plus the wall time
    of the whole process (interpreter start and imports included)."""
    argv = [sys.executable, str(script), "--save-child"]
    job = {
        "state": str(state_dir),
        "desk": desk,
        "request_id": request_id,
        "target": str(target),
        "workers": workers,
    }
    os.sync()  # the save pays for its own writes only
    started = time.perf_counter()
    proc = subprocess.run([*argv, json.dumps(job)], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"save child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    answer["process_wall_s"] = wall
    return answer


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / MB
    return float("nan")


def save_child(job: dict[str, Any]) -> dict[str, Any]:
    """The desk saves every submission of the request (``client.save_all.save_all``).
    Timed from opening the session; peak RSS is this process's."""
    state_dir, target = Path(job["state"]), Path(job["target"])
    started = time.perf_counter()
    session = open_session(profile_of(state_dir, job["desk"]))
    try:
        directory = session.directory()
        ready = time.perf_counter()
        mode = f"save_all(workers={job['workers']})"
        result = save_all(session, directory, job["request_id"], target, workers=job["workers"])
        summary = repr(result)[:2000]
        done = time.perf_counter()
    finally:
        session.close()
    return {
        "mode": mode,
        "open_s": ready - started,
        "save_s": done - ready,
        "total_s": done - started,
        "peak_rss_mb": _peak_rss_mb(),
        "summary": summary,
    }
