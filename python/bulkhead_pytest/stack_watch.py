"""The running test's Python stacks, taken without a signal.

For the whole session, faulthandler's watchdog thread dumps the stacks of every thread into a
per-worker file every few seconds (``dump_traceback_later(..., repeat=True)``). That thread is
plain C and never takes the GIL, so it writes even while a test holds the GIL in a long C call or
a deadlock; and it sends no signal, so it cannot cut short what the test is doing (SIGUSR1
interrupts a ``sleep`` in C, which then returns early). The supervisor reads the newest dump when
a worker is busy without a heartbeat, and when it kills one for its timeout or for hanging.

Armed once, not per test: arming starts a thread and cancelling joins it (about 60 us, which a
suite of trivial tests would feel). Each test only empties the file when it starts, if anything
was written since, so every dump in it is the running test's. The file is opened for appending:
after the truncation, faulthandler's writes land at the new end, not at an offset past it.
"""
from __future__ import annotations

import faulthandler
import os
from typing import IO, Optional

import pytest

from . import environment


class StackWatch:
    def __init__(self, path: str, every: float) -> None:
        self._every = every
        self._file: IO[bytes] = open(path, "ab", buffering=0)

    def start(self) -> None:
        faulthandler.dump_traceback_later(self._every, repeat=True, file=self._file)

    def test_started(self) -> None:
        fd = self._file.fileno()
        if os.fstat(fd).st_size > 0:
            os.ftruncate(fd, 0)

    def stop(self) -> None:
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
