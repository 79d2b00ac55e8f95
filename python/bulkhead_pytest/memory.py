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
    """The kernel keeps the peak: reset before each test, read after it.

    Its files stay open and are read and written in place (pread/pwrite at offset 0): an open,
    read and close of a cgroup file costs about 30 times a pread, and done five times a test it
    cost more than a tiny test does. ``memory.stat``, which the kernel computes on every read, is
    read only when the worker's usage moved by more than ``_STAT_AFTER`` since the last read.
    """

    # Resident memory is for recycling and admission, both judged in MiB and more.
    _STAT_AFTER = 1 << 20

    def __init__(self, path: str) -> None:
        self._path = path
        self._baseline = 0
        self._peak_fd = _open(path, "memory.max_usage_in_bytes", os.O_RDWR)
        self._failcnt_fd = _open(path, "memory.failcnt", os.O_WRONLY)
        self._usage_fd = _open(path, "memory.usage_in_bytes", os.O_RDONLY)
        self._stat_fd = _open(path, "memory.stat", os.O_RDONLY)
        self._procs_fd = _open(path, "cgroup.procs", os.O_RDONLY)
        self._resident: Optional[int] = None
        self._resident_at_usage = 0

    def start(self) -> None:
        # The peak, and the count of charges that ran into this worker's own cap (which tells the
        # supervisor an OOM kill at the cap from one at the run's budget), are the test's own.
        for fd in (self._peak_fd, self._failcnt_fd):
            _pwrite_zero(fd)
        self._baseline = _pread_int(self._usage_fd) or 0

    def stop(self) -> Dict[str, int]:
        peak = _pread_int(self._peak_fd) or 0
        # The worker's own resident memory after the test (page cache, which the cgroup also
        # counts, is not the worker's to keep): its new idle baseline.
        return {"baselineBytes": self._baseline, "peakBytes": max(0, peak - self._baseline), "residentBytes": self._resident_bytes()}

    def only_member(self, pid: int) -> bool:
        """Whether ``pid`` is the only process in the worker's cgroup: then the test left nothing
        running, and the walk through /proc that names what it left can be skipped."""
        if self._procs_fd is None:
            return False
        try:
            return os.pread(self._procs_fd, 256, 0).split() == [str(pid).encode()]
        except OSError:
            return False

    def _resident_bytes(self) -> int:
        usage = _pread_int(self._usage_fd)
        if self._resident is not None and usage is not None and abs(usage - self._resident_at_usage) < self._STAT_AFTER:
            return self._resident
        resident = self._stat_rss()
        if resident is None:
            return tree_rss(os.getpid())
        self._resident, self._resident_at_usage = resident, usage or 0
        return resident

    def _stat_rss(self) -> Optional[int]:
        # The anonymous memory of every process in the worker's cgroup, one read: walking the
        # process tree in /proc after every test costs more than the test itself in a fast suite.
        if self._stat_fd is None:
            return None
        try:
            text = os.pread(self._stat_fd, 65536, 0)
        except OSError:
            return None
        at = text.find(b"\ntotal_rss ")
        if at < 0:
            return None
        value = text[at + len(b"\ntotal_rss "):text.find(b"\n", at + 1)]
        try:
            return int(value)
        except ValueError:
            return None


def _open(folder: str, name: str, flags: int) -> Optional[int]:
    try:
        return os.open(os.path.join(folder, name), flags | os.O_CLOEXEC)
    except OSError:
        return None


def _pwrite_zero(fd: Optional[int]) -> None:
    if fd is None:
        return
    try:
        os.pwrite(fd, b"0", 0)
    except OSError:
        pass


def _pread_int(fd: Optional[int]) -> Optional[int]:
    if fd is None:
        return None
    try:
        return int(os.pread(fd, 64, 0).strip())
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
