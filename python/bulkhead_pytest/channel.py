"""The dedicated message channel between a worker and the supervisor.

Messages are newline-delimited JSON objects with a ``type`` field, on a file descriptor that is
neither stdout nor stderr, so nothing a test prints can ever be taken for a message. This is the
framing only: what the messages and commands are is protocol.py's.

With a journal (``BULKHEAD_JOURNAL_FD``: a file the supervisor made and unlinked, shared with
it), every message is written there at once, and the socket carries only commands in and a
doorbell (a bare newline) out. A message in the journal outlives this process, as one in the
socket's buffer does, so nothing waits in memory where a crash would lose it; but the supervisor
reads the journal when the doorbell rings or when it looks on its own (every 20 ms), not once per
write. A test's start and end then cost a write(2) each and no wake-up of the supervisor: it is
rung only when it must act (a lock, a question, a worker about to wait for work, its queue
running short). Its own look does not need this process to run: a test that holds the GIL in C
does not delay it. Without a journal, messages go on the socket as before.
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, Iterator, List, Optional

from . import environment


class Channel:
    def __init__(self, fd: int, journal_fd: Optional[int] = None) -> None:
        # os.dup() returns a non-inheritable descriptor (PEP 446): a subprocess that a test starts
        # must not hold our channel open or write into it.
        self._fd = os.dup(fd)
        os.close(fd)
        self._journal: Optional[int] = None
        if journal_fd is not None:
            self._journal = os.dup(journal_fd)
            os.close(journal_fd)
        self._lock = threading.Lock()
        self._pending: List[bytes] = []

    def send(self, message: Dict[str, Any], flush: bool = True) -> None:
        """Sends a message; with ``flush=False`` the supervisor need not see it at once.

        A wake-up of the supervisor costs more than a tiny test. Without a journal, a message
        sent with ``flush=False`` waits in a buffer for the next flush; with one, it is written
        (and safe) at once, and only the doorbell waits.
        """
        data = (json.dumps(message, separators=(",", ":"), default=str) + "\n").encode("utf-8", "replace")
        # One lock around buffer and write: the heartbeat thread writes too, and two interleaved
        # partial writes would corrupt both lines.
        with self._lock:
            if self._journal is not None:
                _write_all(self._journal, data)
                if flush:
                    self._ring()
                return
            self._pending.append(data)
            if flush:
                self._write_pending()

    def flush(self) -> None:
        """The supervisor must see everything sent so far, now."""
        with self._lock:
            if self._journal is not None:
                self._ring()
            else:
                self._write_pending()

    def persist(self) -> None:
        """Everything sent so far must outlive this process (a crash must not lose it)."""
        if self._journal is None:
            self.flush()

    def nudge(self, urgent: bool) -> None:
        """After a message the supervisor need not act on at once: rung only if ``urgent``."""
        if self._journal is None:
            self.flush()
        elif urgent:
            with self._lock:
                self._ring()

    def _ring(self) -> None:
        os.write(self._fd, b"\n")

    def _write_pending(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        _write_all(self._fd, data)

    def lines(self) -> Iterator[bytes]:
        """Yields each line the supervisor sends (blank ones skipped), undecoded: protocol.py reads
        them as commands. Ends when the supervisor closes its side."""
        buffered = b""
        while True:
            chunk = os.read(self._fd, 65536)
            if not chunk:
                return
            buffered += chunk
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                if line.strip():
                    yield line


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def open_channel_from_env() -> "Channel | None":
    value = os.environ.get(environment.CHANNEL_FD)
    if not value:
        return None
    journal = os.environ.get(environment.JOURNAL_FD)
    return Channel(int(value), int(journal) if journal else None)
