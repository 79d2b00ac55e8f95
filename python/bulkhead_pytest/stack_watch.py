"""The running test's Python stacks, taken without a signal, and only when it is safe.

faulthandler's watchdog thread is plain C and never takes the GIL, so it can dump the stacks of
every thread into a per-worker file even while a test holds the GIL in a long C call or a
deadlock, and it sends no signal (SIGUSR1 interrupts a ``sleep`` in C, which then returns early).
The supervisor reads the newest dump when a worker is busy without a heartbeat, and when it kills
one for its timeout or for hanging.

But that thread walks the other threads' frames without the GIL: while the main thread runs
Python, the frames it walks are being created and freed under it, and CPython 3.11 segfaults
(reproduced: a repeating dump every 50 ms kills a worker running networkx's ``test_random_gnp``
within seconds; every 10 s, it killed one in a full networkx run). So it is armed as a dead man's
switch: a Python thread re-arms it (one shot, ``every`` seconds ahead) every ``every / 2``
seconds. While any Python code runs, that thread gets the GIL within the switch interval and the
dump never fires. It fires only once nothing but C has run for ``every`` seconds: a GIL held in a
C call, a deadlock holding it, a stopped interpreter — exactly when the frames cannot change, and
exactly when the heartbeat is silent and the supervisor needs the stacks.

Each test empties the file when it starts, if anything was written since, so every dump in it is
the running test's. The file is opened for appending: after the truncation, faulthandler's
writes land at the new end, not at an offset past it.
"""
from __future__ import annotations

import faulthandler
import os
import threading
from typing import IO, Optional

import pytest

from . import environment


class StackWatch:
    def __init__(self, path: str, every: float) -> None:
        self._every = every
        self._file: IO[bytes] = open(path, "ab", buffering=0)
        self._stopped = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        self._arm()
        self._thread = threading.Thread(target=self._keep_armed, name="bulkhead-stack-watch", daemon=True)
        self._thread.start()

    def _arm(self) -> None:
        faulthandler.dump_traceback_later(self._every, repeat=False, file=self._file)

    def _keep_armed(self) -> None:
        # Each re-arm cancels the pending dump (joining faulthandler's thread) and starts a new
        # one: about 60 us, every few seconds.
        while not self._stopped.wait(self._every / 2):
            self._arm()

    def test_started(self) -> None:
        fd = self._file.fileno()
        if os.fstat(fd).st_size > 0:
            os.ftruncate(fd, 0)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self._every)
        faulthandler.cancel_dump_traceback_later()


def stack_watch_from_env(config: pytest.Config) -> Optional[StackWatch]:
    """The watch the supervisor asked for, unless pytest's own ``faulthandler_timeout`` is set:
    faulthandler has one watchdog, and that option arms and cancels it around every test (the
    supervisor then takes stacks with SIGUSR1, as before)."""
    path = os.environ.get(environment.STACKS_FILE)
    try:
        every = float(os.environ.get(environment.STACKS_SECONDS, ""))
    except ValueError:
        return None
    if not path or every <= 0:
        return None
    try:
        if float(config.getini("faulthandler_timeout") or 0) > 0:
            return None
    except (ValueError, TypeError):
        pass
    return StackWatch(path, every)
