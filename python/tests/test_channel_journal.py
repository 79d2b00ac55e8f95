"""Channel with a journal: every message written to the journal at once, the socket a doorbell."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from typing import Iterator, List, Tuple

import pytest

from bulkhead_pytest.channel import Channel

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def journaled() -> Iterator[Tuple[socket.socket, int, Channel]]:
    """(the supervisor's socket end, its descriptor on the journal, a journaled Channel)."""
    ours, theirs = socket.socketpair()
    handle = tempfile.TemporaryFile()
    reader = os.dup(handle.fileno())
    channel = Channel(theirs.detach(), os.dup(handle.fileno()))
    handle.close()
    ours.setblocking(False)
    try:
        yield ours, reader, channel
    finally:
        ours.close()
        os.close(reader)
        for fd in (channel._fd, channel._journal):
            try:
                os.close(fd)  # type: ignore[arg-type]
            except OSError:
                pass


def journal_messages(reader: int) -> List[dict]:
    data = os.pread(reader, 1 << 20, 0)
    assert data.endswith(b"\n") or data == b""
    return [json.loads(line) for line in data.split(b"\n") if line]


def doorbells(sock: socket.socket) -> bytes:
    try:
        return sock.recv(1 << 16)
    except BlockingIOError:
        return b""


def test_every_message_is_in_the_journal_at_once_and_the_socket_only_rings(journaled: Tuple[socket.socket, int, Channel]) -> None:
    sock, reader, channel = journaled
    channel.send({"type": "started", "id": "t::a"}, flush=False)
    channel.send({"type": "finished", "id": "t::a"}, flush=False)
    assert [m["type"] for m in journal_messages(reader)] == ["started", "finished"]
    assert doorbells(sock) == b"", "nothing rings for messages sent without a flush"
    channel.send({"type": "lock_acquire", "name": "db"})
    assert doorbells(sock) == b"\n", "a flushed message rings once, and carries nothing itself"
    channel.flush()
    assert doorbells(sock) == b"\n"
    channel.persist()
    assert doorbells(sock) == b"", "persisting needs no wake-up: the journal already holds it"
    assert len(journal_messages(reader)) == 3


def test_nudge_rings_only_when_urgent(journaled: Tuple[socket.socket, int, Channel]) -> None:
    sock, reader, channel = journaled
    for n in range(50):
        channel.send({"type": "started", "id": f"t::{n}"}, flush=False)
        channel.nudge(urgent=False)
    assert doorbells(sock) == b"", "the supervisor looks at the journal on its own"
    assert len(journal_messages(reader)) == 50
    channel.nudge(urgent=True)
    assert doorbells(sock) == b"\n", "an urgent nudge rings"


def test_without_a_journal_a_nudge_flushes_as_before() -> None:
    ours, theirs = socket.socketpair()
    channel = Channel(theirs.detach())
    try:
        channel.send({"type": "started", "id": "t::a"}, flush=False)
        ours.setblocking(False)
        assert doorbells(ours) == b""
        channel.nudge(urgent=False)
        ours.settimeout(10)
        assert json.loads(ours.recv(1 << 16)) == {"type": "started", "id": "t::a"}
    finally:
        ours.close()
        os.close(channel._fd)


def test_a_worker_killed_after_a_silent_send_leaves_its_message_in_the_journal() -> None:
    """The journal outlives the process: a SIGKILL right after send(flush=False) loses nothing."""
    ours, theirs = socket.socketpair()
    handle = tempfile.TemporaryFile()
    code = (
        "import os, signal\n"
        "from bulkhead_pytest.channel import open_channel_from_env\n"
        "channel = open_channel_from_env()\n"
        "channel.send({'type': 'started', 'id': 't::dies'}, flush=False)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": PYTHON_DIR, "BULKHEAD_CHANNEL_FD": str(theirs.fileno()), "BULKHEAD_JOURNAL_FD": str(handle.fileno())}
    try:
        child = subprocess.run([sys.executable, "-c", code], env=env, pass_fds=(theirs.fileno(), handle.fileno()), timeout=60)
        assert child.returncode == -9
        theirs.close()
        ours.settimeout(10)
        assert ours.recv(1 << 16) == b"", "it never rang"
        assert journal_messages(handle.fileno()) == [{"type": "started", "id": "t::dies"}]
    finally:
        ours.close()
        handle.close()
