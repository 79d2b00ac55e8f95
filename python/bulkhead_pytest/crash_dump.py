"""Python stacks for crash reports.

faulthandler writes the stacks of all threads to a per-worker file when the interpreter dies of
a fatal signal (SIGSEGV, SIGABRT, SIGBUS, ...), and on SIGUSR1, which the supervisor sends
before it kills a test that timed out. Its handler runs at C level, so it works even while a
thread holds the GIL.
"""
from __future__ import annotations

import faulthandler
import os
import signal
from typing import IO, Optional

from . import environment

_file: Optional[IO[str]] = None  # kept open for the life of the process


def enable_crash_dumps(path: str) -> None:
    global _file
    # Appended to: the launcher enabled faulthandler on this file before pytest started, so a
    # crash while importing conftest.py is already in it.
    _file = open(path, "a", buffering=1)
    # Replaces pytest's own faulthandler target (stderr): the supervisor reads this file.
    faulthandler.enable(file=_file, all_threads=True)
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, file=_file, all_threads=True, chain=False)


def crash_file_from_env() -> Optional[str]:
    return os.environ.get(environment.CRASH_FILE) or None
