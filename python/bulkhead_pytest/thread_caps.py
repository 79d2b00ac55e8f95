"""Thread caps per test: a test that reserves N CPU slots gets N threads in its native pools.

The supervisor caps OMP_NUM_THREADS and friends for each worker at its share of the CPUs (the
variables it set are listed in ``BULKHEAD_THREAD_CAPPED``; those the user set are never touched).
A test that reserved more slots (``cpus=N``) gets those variables raised to N while it runs, so
the pools it or its subprocesses start use the CPUs it was given; they are restored after it.
"""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Dict, Iterator, Mapping

from . import environment


class ThreadCaps:
    def __init__(self) -> None:
        self._names = [name for name in os.environ.get(environment.THREAD_CAPPED, "").split(",") if name]
        self._threads: Dict[int, int] = {}
        self._lock = threading.Lock()

    def expect(self, threads: Mapping[str, int]) -> None:
        """Called by the command reader with a ``run`` command's ``threads`` (index -> N)."""
        with self._lock:
            for index, count in threads.items():
                self._threads[int(index)] = int(count)

    @contextlib.contextmanager
    def applied(self, index: int) -> Iterator[None]:
        with self._lock:
            count = self._threads.pop(index, None)
        if count is None or not self._names:
            yield
            return
        saved = {name: os.environ.get(name) for name in self._names}
        for name in self._names:
            os.environ[name] = str(count)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
