"""The worker's local queue of assigned tests, shared by the command reader and the test loop.

pytest runs an item with the item that follows it (``nextitem``), which decides which fixtures
tear down. So an item runs only once its successor is known, or once the supervisor said that no
more work will come; and an item that was handed to pytest as ``nextitem`` can no longer be
given back (pytest asserts that the next item it sets up is the one it prepared for).
"""
from __future__ import annotations

import threading
from collections import deque
from typing import Callable, Deque, Iterable, List, Optional, Tuple


class RunQueue:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: Deque[int] = deque()
        self._committed: Optional[int] = None
        self._finishing = False
        self._stopping = False
        self._flush = False

    def add(self, indices: Iterable[int]) -> None:
        with self._cond:
            self._pending.extend(indices)
            self._cond.notify()

    def short(self) -> bool:
        """Whether fewer than two items wait: the supervisor would send more now."""
        with self._cond:
            return len(self._pending) < 2

    def steal(self, indices: Iterable[int]) -> List[int]:
        """Gives up the requested items that have not started; returns those actually given up."""
        wanted = set(indices)
        with self._cond:
            kept: Deque[int] = deque()
            given: List[int] = []
            for index in self._pending:
                if index in wanted and index != self._committed:
                    given.append(index)
                else:
                    kept.append(index)
            self._pending = kept
            return given

    def finish(self) -> None:
        """No more work will come: run what is queued, then end the session."""
        with self._cond:
            self._finishing = True
            self._cond.notify()

    def flush(self) -> None:
        """Run the lone queued item without a successor (no test that fits can follow it yet)."""
        with self._cond:
            self._flush = True
            self._cond.notify()

    def stop(self) -> List[int]:
        """End after the running test; returns the queued items that will not run."""
        with self._cond:
            self._stopping = True
            dropped = list(self._pending)
            self._pending.clear()
            self._cond.notify()
            return dropped

    def next_pair(self, before_wait: Callable[[], None] = lambda: None) -> Optional[Tuple[int, Optional[int]]]:
        """Blocks until an item can run; returns (item, nextitem) or None when the session ends.

        ``before_wait`` runs (outside the lock) whenever the call is about to block, so that
        buffered results reach the supervisor, which decides on more work from them.
        """
        waited = False
        with self._cond:
            while True:
                if self._stopping:
                    return None
                if len(self._pending) >= 2 or (self._pending and (self._finishing or self._flush)):
                    break
                if not self._pending and self._finishing:
                    return None
                if not waited:
                    waited = True
                    self._cond.release()
                    try:
                        before_wait()
                    finally:
                        self._cond.acquire()
                    continue
                self._cond.wait()
            index = self._pending.popleft()
            following = self._pending[0] if self._pending else None
            # A flush is for one item: a later lone item waits for its successor again.
            self._flush = False
            self._committed = following
            return index, following
