"""Channel: newline-delimited JSON on a socket, sent from several threads, never inherited."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Iterator, List, Tuple

import pytest

from bulkhead_pytest.channel import Channel, open_channel_from_env


@pytest.fixture
def pair() -> Iterator[Tuple[socket.socket, Channel]]:
    """(the supervisor's end, a Channel on the worker's end)."""
    ours, theirs = socket.socketpair()
    channel = Channel(theirs.detach())
    ours.settimeout(30)
    try:
        yield ours, channel
    finally:
        ours.close()
        try:
            os.close(channel._fd)
        except OSError:
            pass


def collect_messages(channel: Channel, timeout: float = 30) -> Tuple[threading.Thread, List[dict]]:
    received: List[dict] = []

    def read() -> None:
        for line in channel.lines():
            received.append(json.loads(line))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, received


def read_lines(sock: socket.socket, count: int) -> List[bytes]:
    buffered = bytearray()
    newlines = 0
    deadline = time.monotonic() + 60
    while newlines < count:
        assert time.monotonic() < deadline, "timed out reading from the channel"
        chunk = sock.recv(1 << 20)
        assert chunk, "channel closed early"
        buffered += chunk
        newlines += chunk.count(b"\n")
    lines = bytes(buffered).split(b"\n")
    assert lines[-1] == b"", "a partial line after the last message"
    return lines[:-1]


# -- framing -------------------------------------------------------------------------------------


def test_messages_split_across_partial_reads(pair: Tuple[socket.socket, Channel]) -> None:
    ours, channel = pair
    sent = [
        {"type": "run", "indices": [0, 1, 2]},
        {"type": "steal", "indices": list(range(500))},
        {"type": "run", "indices": [], "note": "caf\u00e9 \u2603 \U0001f600"},  # multi-byte UTF-8
        {"type": "finish"},
    ]
    data = b"".join(json.dumps(m, ensure_ascii=False).encode("utf-8") + b"\n" for m in sent)
    data = data.replace(b'{"type": "finish"}', b'\n\n{"type": "finish"}')  # blank lines are skipped
    thread, received = collect_messages(channel)
    for offset in range(0, len(data), 3):  # 3 bytes at a time: splits lines and UTF-8 sequences
        ours.sendall(data[offset:offset + 3])
        if offset % 300 == 0:
            time.sleep(0.001)
    ours.shutdown(socket.SHUT_WR)
    thread.join(30)
    assert not thread.is_alive()
    assert received == sent


def test_several_messages_in_one_read(pair: Tuple[socket.socket, Channel]) -> None:
    ours, channel = pair
    ours.sendall(b'{"type":"run","indices":[1]}\n{"type":"run","indices":[2]}\n{"type":"finish"}\n')
    ours.shutdown(socket.SHUT_WR)
    thread, received = collect_messages(channel)
    thread.join(30)
    assert received == [{"type": "run", "indices": [1]}, {"type": "run", "indices": [2]}, {"type": "finish"}]


def test_messages_end_when_the_supervisor_closes_its_side(pair: Tuple[socket.socket, Channel]) -> None:
    ours, channel = pair
    thread, received = collect_messages(channel)
    ours.sendall(b'{"type":"finish"}\n')
    time.sleep(0.05)
    assert thread.is_alive()  # still waiting for more
    ours.shutdown(socket.SHUT_WR)
    thread.join(30)
    assert not thread.is_alive()
    assert received == [{"type": "finish"}]


def test_send_writes_one_compact_json_line(pair: Tuple[socket.socket, Channel]) -> None:
    ours, channel = pair
    channel.send({"type": "warning", "text": "line one\nline two \u2603", "path": os.path})
    (line,) = read_lines(ours, 1)
    message = json.loads(line)
    assert message["type"] == "warning"
    assert message["text"] == "line one\nline two \u2603"
    assert isinstance(message["path"], str)  # not JSON-able values are sent as their str()


def test_concurrent_senders_never_interleave_lines(pair: Tuple[socket.socket, Channel]) -> None:
    ours, channel = pair
    per_thread = 60
    # Bigger than a socket buffer, so one message takes several write() calls.
    payload = {"a": "A" * 300_000, "b": "B" * 300_000}

    def sender(name: str) -> None:
        for seq in range(per_thread):
            # "b" batches some of its messages, as results are, and flushes them with the next one.
            flush = name == "a" or seq % 3 == 2 or seq == per_thread - 1
            channel.send({"type": "report", "sender": name, "seq": seq, "blob": payload[name]}, flush=flush)

    threads = [threading.Thread(target=sender, args=(name,), daemon=True) for name in payload]
    for thread in threads:
        thread.start()
    lines = read_lines(ours, 2 * per_thread)
    for thread in threads:
        thread.join(30)
    assert len(lines) == 2 * per_thread
    seqs = {"a": [], "b": []}
    for line in lines:
        message = json.loads(line)
        assert message["blob"] == payload[message["sender"]]
        seqs[message["sender"]].append(message["seq"])
    assert seqs == {"a": list(range(per_thread)), "b": list(range(per_thread))}


def test_unflushed_messages_wait_for_the_next_flush(pair: Tuple[socket.socket, Channel]) -> None:
    ours, channel = pair
    channel.send({"type": "report", "n": 1}, flush=False)
    channel.send({"type": "finished", "n": 2}, flush=False)
    ours.settimeout(0.2)
    with pytest.raises(socket.timeout):
        ours.recv(100)
    ours.settimeout(10)
    channel.flush()
    assert [json.loads(line)["n"] for line in read_lines(ours, 2)] == [1, 2]
    channel.flush()  # nothing pending: writes nothing
    channel.send({"type": "report", "n": 3}, flush=False)
    channel.send({"type": "started", "n": 4})  # a flushing send takes the buffered ones along, first
    assert [json.loads(line)["n"] for line in read_lines(ours, 2)] == [3, 4]


# -- the descriptor --------------------------------------------------------------------------------


def test_channel_takes_over_the_descriptor_as_non_inheritable() -> None:
    ours, theirs = socket.socketpair()
    with ours:
        fd = theirs.detach()
        os.set_inheritable(fd, True)  # as the supervisor hands it over
        channel = Channel(fd)
        try:
            assert channel._fd != fd or not os.get_inheritable(channel._fd)
            assert not os.get_inheritable(channel._fd)
            if channel._fd != fd:
                with pytest.raises(OSError):
                    os.fstat(fd)  # the original number is closed
        finally:
            os.close(channel._fd)


def test_channel_is_not_inherited_by_a_subprocess(pair: Tuple[socket.socket, Channel]) -> None:
    ours, channel = pair
    inode = os.fstat(channel._fd).st_ino
    child_code = (
        "import json, os, sys\n"
        "fd = int(sys.argv[1])\n"
        "links = []\n"
        "for name in os.listdir('/proc/self/fd'):\n"
        "    try:\n"
        "        links.append(os.readlink('/proc/self/fd/' + name))\n"
        "    except OSError:\n"
        "        pass\n"
        "try:\n"
        "    os.write(fd, b'{\"type\":\"done\",\"exitstatus\":99}\\n')\n"
        "    wrote = True\n"
        "except OSError:\n"
        "    wrote = False\n"
        "print(json.dumps({'links': links, 'wrote': wrote}))\n"
    )
    # close_fds=False: only the descriptor's own inheritability can keep it from the child.
    result = subprocess.run(
        [sys.executable, "-c", child_code, str(channel._fd)],
        close_fds=False,
        stdout=subprocess.PIPE,
        timeout=60,
        check=True,
    )
    seen = json.loads(result.stdout)
    assert f"socket:[{inode}]" not in seen["links"]
    # Whatever the child's descriptor of that number is, nothing it wrote reached our side.
    ours.settimeout(0.2)
    with pytest.raises(socket.timeout):
        ours.recv(100)
    # And the channel itself still works.
    channel.send({"type": "hello"})
    ours.settimeout(10)
    assert read_lines(ours, 1) == [b'{"type":"hello"}']


def test_open_channel_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BULKHEAD_CHANNEL_FD", raising=False)
    assert open_channel_from_env() is None
    ours, theirs = socket.socketpair()
    with ours:
        monkeypatch.setenv("BULKHEAD_CHANNEL_FD", str(theirs.detach()))
        channel = open_channel_from_env()
        assert channel is not None
        try:
            channel.send({"type": "hello"})
            ours.settimeout(10)
            assert read_lines(ours, 1) == [b'{"type":"hello"}']
        finally:
            os.close(channel._fd)
