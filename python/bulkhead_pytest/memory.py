"""Per-test memory: the peak a test reached above the worker's baseline when it started, and the
worker's resident memory once the test is over (its idle size, which recycling watches).

With a cgroup v1 memory leaf (``BULKHEAD_MEMORY_CGROUP``) the kernel keeps the peak for us:
``memory.max_usage_in_bytes`` is reset before each test and read after it. Without one, a thread
samples the resident memory of the worker's process tree from /proc every 20 ms, often enough to
see a one-second spike.
"""
from __future__ import annotations

import os
import threading
from typing import Dict, Optional

from . import environment

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class CgroupMeter:
    def __init__(self, path: str) -> None:
        self._path = path
        self._baseline = 0

    def start(self) -> None:
        # The peak, and the count of charges that ran into this worker's own cap (which tells the
        # supervisor an OOM kill at the cap from one at the run's budget), are the test's own.
        for name in ("memory.max_usage_in_bytes", "memory.failcnt"):
            try:
                with open(os.path.join(self._path, name), "w") as handle:
                    handle.write("0")
            except OSError:
                pass
        self._baseline = self._read("memory.usage_in_bytes") or 0

    def stop(self) -> Dict[str, int]:
        peak = self._read("memory.max_usage_in_bytes") or 0
        # The worker's own resident memory after the test (page cache, which the cgroup also
        # counts, is not the worker's to keep): its new idle baseline.
        return {"baselineBytes": self._baseline, "peakBytes": max(0, peak - self._baseline), "residentBytes": self._resident()}

    def _resident(self) -> int:
        # The anonymous memory of every process in the worker's cgroup, one file read: walking the
        # process tree in /proc after every test costs more than the test itself in a fast suite.
        try:
            with open(os.path.join(self._path, "memory.stat")) as handle:
                for line in handle:
                    key, _, value = line.partition(" ")
                    if key == "total_rss":
                        return int(value)
        except (OSError, ValueError):
            pass
        return tree_rss(os.getpid())

    def _read(self, name: str) -> Optional[int]:
        try:
            with open(os.path.join(self._path, name)) as handle:
                return int(handle.read().strip())
        except (OSError, ValueError):
            return None


class SamplingMeter:
    def __init__(self, interval: float = 0.02) -> None:
        self._interval = interval
        self._baseline = 0
        self._peak = 0
        self._running = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._sample_loop, name="bulkhead-memory", daemon=True).start()

    def start(self) -> None:
        rss = tree_rss(os.getpid())
        with self._lock:
            self._baseline = rss
            self._peak = rss
        self._running.set()

    def stop(self) -> Dict[str, int]:
        self._running.clear()
        rss = tree_rss(os.getpid())
        with self._lock:
            self._peak = max(self._peak, rss)
            return {"baselineBytes": self._baseline, "peakBytes": max(0, self._peak - self._baseline), "residentBytes": rss}

    def _sample_loop(self) -> None:
        while True:
            self._running.wait()
            rss = tree_rss(os.getpid())
            with self._lock:
                self._peak = max(self._peak, rss)
            threading.Event().wait(self._interval)


def tree_rss(root: int) -> int:
    """Resident bytes of a process and its descendants."""
    from .processes import living_descendants

    total = _rss(root)
    for process in living_descendants(root):
        total += _rss(int(process["pid"]))
    return total


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def make_meter():
    path = os.environ.get(environment.MEMORY_CGROUP)
    if path and os.path.exists(os.path.join(path, "memory.max_usage_in_bytes")):
        return CgroupMeter(path)
    if os.path.exists("/proc/self/statm"):
        return SamplingMeter()
    return None
