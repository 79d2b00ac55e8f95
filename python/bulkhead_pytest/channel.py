"""The dedicated message channel between a worker and the supervisor.

Messages are newline-delimited JSON objects with a ``type`` field, on a file descriptor that is
neither stdout nor stderr, so nothing a test prints can ever be taken for a message. This is the
framing only: what the messages and commands are is protocol.py's.
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, Iterator, List

from . import environment


class Channel:
    def __init__(self, fd: int) -> None:
        # os.dup() returns a non-inheritable descriptor (PEP 446): a subprocess that a test starts
        # must not hold our channel open or write into it.
        self._fd = os.dup(fd)
        os.close(fd)
        self._lock = threading.Lock()
        self._pending: List[bytes] = []

    def send(self, message: Dict[str, Any], flush: bool = True) -> None:
        """Sends a message; with ``flush=False`` it waits in a buffer for the next flush.

        A write costs a system call and wakes the supervisor, which in a suite of tiny tests costs
        more than the test. Results are therefore batched, while every message the supervisor
        must see at once (a test starting, a worker about to wait for work) flushes.
        """
        data = (json.dumps(message, separators=(",", ":"), default=str) + "\n").encode("utf-8", "replace")
        # One lock around buffer and write: the heartbeat thread writes too, and two interleaved
        # partial writes would corrupt both lines.
        with self._lock:
            self._pending.append(data)
            if flush:
                self._write_pending()

    def flush(self) -> None:
        with self._lock:
            self._write_pending()

    def _write_pending(self) -> None:
        if not self._pending:
            return
        view = memoryview(b"".join(self._pending))
        self._pending.clear()
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

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


def open_channel_from_env() -> "Channel | None":
    value = os.environ.get(environment.CHANNEL_FD)
    if not value:
        return None
    return Channel(int(value))
