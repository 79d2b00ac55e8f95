"""The running test's Python stacks, taken without a signal.

While a test runs, faulthandler's watchdog thread dumps the stacks of every thread into a
per-worker file every few seconds (``dump_traceback_later(..., repeat=True)``). That thread is
plain C and never takes the GIL, so it writes even while the test holds the GIL in a long C call
or a deadlock; and it sends no signal, so it cannot cut short what the test is doing (SIGUSR1
interrupts a ``sleep`` in C, which then returns early). The supervisor reads the newest dump when
a worker is busy without a heartbeat, and when it kills one for its timeout or for hanging.

The file is emptied when a test starts, so every dump in it is the running test's. It is opened
for appending: after the truncation, faulthandler's writes land at the new end, not at an offset
past it.
"""
from __future__ import annotations

import faulthandler
import os
import time
from typing import IO, Optional

import pytest


class StackWatch:
    def __init__(self, path: str, every: float) -> None:
        self._every = every
        self._file: IO[bytes] = open(path, "ab", buffering=0)
        self._armed_at: Optional[float] = None
        self._dumped = False  # whether the file may hold dumps of an earlier test

    def arm(self) -> None:
        if self._dumped:
            os.ftruncate(self._file.fileno(), 0)
            self._dumped = False
        faulthandler.dump_traceback_later(self._every, repeat=True, file=self._file)
        self._armed_at = time.monotonic()

    def disarm(self) -> None:
        if self._armed_at is None:
            return
        faulthandler.cancel_dump_traceback_later()
        # A test shorter than the period left no dump: nothing to empty before the next one.
        if time.monotonic() - self._armed_at >= self._every * 0.9:
            self._dumped = True
        self._armed_at = None


def stack_watch_from_env(config: pytest.Config) -> Optional[StackWatch]:
    """The watch the supervisor asked for, unless pytest's own ``faulthandler_timeout`` is set:
    faulthandler has one watchdog, and that option arms and cancels it around every test (the
    supervisor then takes stacks with SIGUSR1, as before)."""
    path = os.environ.get("BULKHEAD_STACKS_FILE")
    try:
        every = float(os.environ.get("BULKHEAD_STACKS_SECONDS", ""))
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
