"""Cross-worker locks: a critical section that at most ``permits`` holders of a whole run enter at once.

``lock(name, permits=1)`` is a context manager (the ``bulkhead_lock`` fixture returns it):

    with lock("model-init"):            # one holder at a time, across every worker of the run
        model = build_heavy_model()
    with lock("gpu", permits=2):        # at most two holders at a time
        ...

In a bulkhead worker it asks the supervisor, which keeps the table of every worker's locks, and
blocks the calling thread until the lock is granted (the command-reader thread receives the grant).
Anywhere else (plain pytest, a pytest-xdist worker, a script) it does nothing: there is no run to
coordinate, and the code inside still runs.

A lock belongs to the test that takes it: one still held when the test ends is released by the
worker, with a ``BulkheadLockWarning`` on that test. Locks are not reentrant: taking a name again
on the thread that holds it raises ``LockError`` instead of waiting for itself forever.
"""
from __future__ import annotations

import itertools
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from .protocol import message

Send = Callable[[Dict[str, Any]], None]

# How long one wait for a grant sleeps before it looks again whether the channel closed. The
# whole wait is bounded by the test's timeout, which the supervisor enforces from outside.
_WAIT_SLICE_SECONDS = 1.0


class LockError(RuntimeError):
    """A lock that cannot be taken: the supervisor went away, or the name is already held here."""


class BulkheadLockWarning(UserWarning):
    """A test ended while still holding a lock; the worker released it."""


@dataclass
class _Request:
    name: str
    waited: Optional[float] = None


@dataclass
class _Holding:
    name: str
    # The Thread object, not its ident: an ident is reused once its thread has ended.
    thread: threading.Thread


class LockClient:
    """One worker's side of the lock table: its requests, grants and holdings, thread-safe."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._tokens = itertools.count(1)
        self._requests: Dict[str, _Request] = {}
        self._held: Dict[str, _Holding] = {}
        self._acquisitions: List[Dict[str, Any]] = []
        self._closed: Optional[str] = None

    def acquire(self, name: str, permits: int) -> str:
        """Blocks until the supervisor grants the lock; returns the token that releases it."""
        if os.getpid() != self._pid:
            # A forked child shares the channel but not the thread that reads the grants.
            raise LockError(f"lock {name!r} taken in a child process (pid {os.getpid()}); only the worker itself can take locks")
        thread = threading.current_thread()
        with self._cond:
            if self._closed is not None:
                raise LockError(f"cannot take lock {name!r}: {self._closed}")
            if any(h.name == name and h.thread is thread for h in self._held.values()):
                raise LockError(f"lock {name!r} is already held by this thread (bulkhead locks are not reentrant)")
            token = f"{self._pid}-{next(self._tokens)}"
            request = _Request(name)
            self._requests[token] = request
        try:
            # Sent with a flush (the default): the supervisor must see it now, not with the next batch.
            self._send(message("lock_acquire", name=name, permits=permits, token=token))
            with self._cond:
                while request.waited is None and self._closed is None:
                    self._cond.wait(_WAIT_SLICE_SECONDS)
                if request.waited is None:
                    raise LockError(f"cannot take lock {name!r}: {self._closed}")
                del self._requests[token]
                self._held[token] = _Holding(name, thread)
                self._acquisitions.append({"name": name, "waitedSeconds": request.waited})
            return token
        except BaseException:
            # Interrupted while waiting (Ctrl-C, an exception from a signal handler, a closed
            # channel): withdraw the request, or a later grant would block every other worker
            # behind a holder that is not there.
            with self._cond:
                self._requests.pop(token, None)
                self._held.pop(token, None)
            self._send_release(token)
            raise

    def release(self, token: str) -> None:
        """Gives a held lock back; releasing twice (or a token never granted) does nothing."""
        with self._cond:
            holding = self._held.pop(token, None)
        if holding is not None:
            self._send_release(token)

    def granted(self, token: str, waited_seconds: float) -> None:
        """The supervisor granted a request (called on the command-reader thread)."""
        with self._cond:
            request = self._requests.get(token)
            if request is None:
                return  # withdrawn meanwhile: its release is on its way to the supervisor
            request.waited = waited_seconds
            self._cond.notify_all()

    def close(self, reason: str) -> None:
        """No grant can come any more: every waiting request fails with ``reason``."""
        with self._cond:
            self._closed = reason
            self._cond.notify_all()

    def begin_test(self) -> None:
        """A test starts: the acquisitions recorded from now on are its own."""
        with self._cond:
            self._acquisitions = []

    def take_acquisitions(self) -> List[Dict[str, Any]]:
        """The acquisitions since the test started, each with the seconds it waited."""
        with self._cond:
            acquisitions, self._acquisitions = self._acquisitions, []
        return acquisitions

    def release_all(self) -> List[str]:
        """Releases every lock still held here (a test ended); returns their names."""
        with self._cond:
            leftovers = list(self._held.items())
            self._held.clear()
        for token, _holding in leftovers:
            self._send_release(token)
        return [holding.name for _token, holding in leftovers]

    def _send_release(self, token: str) -> None:
        try:
            self._send(message("lock_release", token=token))
        except OSError:
            pass  # the supervisor is gone, and with it every lock this worker held


_client: Optional[LockClient] = None


def install(client: Optional[LockClient]) -> None:
    """Makes ``lock`` use this worker's client (``None``: back to doing nothing)."""
    global _client
    _client = client


class Lock:
    """The context manager ``lock`` returns; one object may be entered again, and by several threads.

    A class, not a generator: an abandoned generator would release its lock whenever the garbage
    collector finalizes it, on whatever thread (one inside the channel's own lock among them);
    an abandoned ``Lock`` is released at the end of its test, with a warning.
    """

    def __init__(self, name: str, permits: int = 1) -> None:
        _check(name, permits)
        self.name = name
        self.permits = permits
        self._local = threading.local()

    def __enter__(self) -> "Lock":
        client = _client
        token = client.acquire(self.name, self.permits) if client is not None else None
        self._entered().append((client, token))
        return self

    def __exit__(self, *exc_info: Any) -> None:
        client, token = self._entered().pop()
        if client is not None and token is not None:
            client.release(token)

    def _entered(self) -> List[Tuple[Optional[LockClient], Optional[str]]]:
        entered = getattr(self._local, "entered", None)
        if entered is None:
            entered = self._local.entered = []
        return entered

    def __repr__(self) -> str:
        return f"bulkhead_pytest.lock({self.name!r}, permits={self.permits})"


def lock(name: str, permits: int = 1) -> Lock:
    """The run-wide lock ``name``: ``with lock(name):`` waits until fewer than ``permits`` hold it."""
    return Lock(name, permits)


def _check(name: Any, permits: Any) -> None:
    # Checked in plain pytest too, so a wrong call fails the same everywhere.
    if not isinstance(name, str):
        raise TypeError(f"a lock name must be a string, not {name!r}")
    if not name:
        raise ValueError("a lock name must not be empty")
    if isinstance(permits, bool) or not isinstance(permits, int):
        raise TypeError(f"permits of lock {name!r} must be an int, not {permits!r}")
    if permits < 1:
        raise ValueError(f"permits of lock {name!r} must be at least 1, not {permits}")
