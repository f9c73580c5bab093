"""What ``bench_cluster.py`` measures with, apart from the client library: CPU seconds
per part of the cluster (read from ``/proc``, children included), a server's peak RSS
over one upload, and the storage's own ceiling (a raw multipart PUT with boto3).

CPU is counted per process tree, so PostgreSQL's backends and nginx's worker count
towards their master; a process that ended inside the window takes its CPU with it
(the cluster's long-lived pools keep that small).
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.engines.cluster import Cluster

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1 << 20
_TICK = os.sysconf("SC_CLK_TCK")
MACHINE = "machine, all processes"


def _processes() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds so far) of every process we may read."""
    found: dict[int, tuple[int, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        # the command name may hold spaces and parentheses: split after the last ")"
        fields = text[text.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK)
    return found


def _tree_cpu(root: int, table: dict[int, tuple[int, float]]) -> float:
    """CPU seconds of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += table.get(pid, (0, 0.0))[1]
        todo += children.get(pid, [])
    return total


def machine_cpu() -> float:
    """CPU seconds every core of the machine spent busy so far (``/proc/stat``): what
    the cluster and the load generator left to everything else shows beside them."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(f) for f in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / _TICK


def cluster_parts(cluster: Cluster) -> dict[str, list[int]]:
    """The root pids of each part of the cluster (what :class:`CpuMeter` reports)."""
    postmaster = cluster.postgres.folder / "data" / "postmaster.pid"
    servers = [s.process.pid for s in cluster.servers if s.process is not None]
    return {
        "drop servers": servers,
        "PostgreSQL": [int(postmaster.read_text().split()[0])],
        "SeaweedFS": [cluster.s3.process.pid],
        "nginx": [cluster.balancer.process.pid],
    }


@dataclass
class CpuMeter:
    """CPU seconds each part spent between :meth:`start` and :meth:`stop`; the load
    generator (this process, all its threads) is measured with ``getrusage``."""

    parts: dict[str, list[int]]
    _before: dict[str, float] | None = None

    def _now(self) -> dict[str, float]:
        table = _processes()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        now = {"load generator": usage.ru_utime + usage.ru_stime}
        for name, roots in self.parts.items():
            now[name] = sum(_tree_cpu(pid, table) for pid in roots)
        now[MACHINE] = machine_cpu()
        return now

    def start(self) -> None:
        self._before = self._now()

    def stop(self) -> dict[str, float]:
        if self._before is None:
            raise RuntimeError("start() first")
        after = self._now()
        return {name: after[name] - self._before[name] for name in after}


def reset_peak_rss(pid: int) -> bool:
    """Reset the process's ``VmHWM`` to its current RSS (``clear_refs`` 5, Linux 4.0+);
    False if not allowed (then the peak counts from the process's start)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for {pid}")


def peak_rss(pid: int) -> int:
    """The process's peak RSS (``VmHWM``) in bytes."""
    return _status(pid, "VmHWM")


def rss(pid: int) -> int:
    """The process's RSS now (``VmRSS``) in bytes."""
    return _status(pid, "VmRSS")


def raw_s3_put(client: S3Client, bucket: str, path: Path, part: int, threads: int) -> float:
    """Seconds for one multipart PUT of ``path`` with boto3 (parts of ``part`` bytes,
    ``threads`` in flight), the object deleted afterwards (untimed)."""
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(
        multipart_threshold=part,
        multipart_chunksize=part,
        max_concurrency=threads,
        use_threads=threads > 1,
    )
    key = f"bench/raw-{threads}"
    start = time.perf_counter()
    client.upload_file(str(path), bucket, key, Config=config)
    seconds = time.perf_counter() - start
    client.delete_object(Bucket=bucket, Key=key)
    return seconds
