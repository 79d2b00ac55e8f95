"""The dedicated message channel between a worker and the supervisor.

Messages are newline-delimited JSON objects with a ``type`` field, on a file descriptor that is
neither stdout nor stderr, so nothing a test prints can ever be taken for a message.
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, Iterator


class Channel:
    def __init__(self, fd: int) -> None:
        # os.dup() returns a non-inheritable descriptor (PEP 446): a subprocess that a test starts
        # must not hold our channel open or write into it.
        self._fd = os.dup(fd)
        os.close(fd)
        self._lock = threading.Lock()

    def send(self, message: Dict[str, Any]) -> None:
        data = (json.dumps(message, separators=(",", ":"), default=str) + "\n").encode("utf-8", "replace")
        # One lock around the whole write: the heartbeat thread writes too, and two interleaved
        # partial writes would corrupt both lines.
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]

    def messages(self) -> Iterator[Dict[str, Any]]:
        """Yields each command the supervisor sends; ends when the supervisor closes its side."""
        buffered = b""
        while True:
            chunk = os.read(self._fd, 65536)
            if not chunk:
                return
            buffered += chunk
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                if line.strip():
                    yield json.loads(line)


def open_channel_from_env() -> "Channel | None":
    value = os.environ.get("BULKHEAD_CHANNEL_FD")
    if not value:
        return None
    return Channel(int(value))
