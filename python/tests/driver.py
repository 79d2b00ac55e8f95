"""Drives one real bulkhead worker process the way the supervisor does, for the plugin's tests.

The worker is ``python bulkhead-worker.py -p bulkhead_pytest.plugin <args>`` with
``BULKHEAD_CHANNEL_FD=3``, fd 3 being one end of a socket pair. ``subprocess`` keeps a passed fd
at its own number, so the child first moves it to fd 3 and then execs the launcher (same pid).
Every line read from the channel must be a message protocol.py defines: anything else fails the
test that reads it. Every wait is bounded.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

from bulkhead_pytest.protocol import ProtocolError, validate_message

PYTHON_DIR = Path(__file__).resolve().parents[1]
LAUNCHER = PYTHON_DIR / "bulkhead-worker.py"
CHANNEL_FD = 3
DEFAULT_TIMEOUT = 60.0

Message = Dict[str, Any]
Match = Union[str, Callable[[Message], bool]]

# Runs in the child before the launcher: puts the channel on fd 3, then becomes the worker.
_EXEC_ON_FD3 = (
    "import os, sys\n"
    "fd = int(sys.argv[1])\n"
    "if fd != 3:\n"
    "    os.dup2(fd, 3)\n"
    "    os.close(fd)\n"
    "os.execv(sys.executable, [sys.executable] + sys.argv[2:])\n"
)


def clean_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment of a worker: ours minus what would leak the outer pytest into it."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "BULKHEAD_")) and key not in ("PYTHONPATH", "COLUMNS", "CI", "BUILD_NUMBER")
    }
    env["COLUMNS"] = "80"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra:
        env.update(extra)
    return env


def plain_pytest(cwd: Path, args: Sequence[str] = (), python: str = sys.executable,
                 env: Optional[Dict[str, str]] = None, timeout: float = DEFAULT_TIMEOUT) -> subprocess.CompletedProcess:
    """The same launcher and plugin without a channel: what the user's pytest would print."""
    return subprocess.run(
        [python, str(LAUNCHER), "-p", "bulkhead_pytest.plugin", *args],
        cwd=str(cwd),
        env=clean_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )


class WorkerDied(AssertionError):
    pass


class Worker:
    def __init__(self, cwd: Path, args: Sequence[str] = (), python: str = sys.executable,
                 env: Optional[Dict[str, str]] = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self.messages: List[Message] = []
        self._buffer = b""
        self._eof = False
        self._sock, child = socket.socketpair()
        self._stdout = tempfile.TemporaryFile()
        self._stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                [python, "-c", _EXEC_ON_FD3, str(child.fileno()),
                 str(LAUNCHER), "-p", "bulkhead_pytest.plugin", *args],
                cwd=str(cwd),
                env=clean_env({**(env or {}), "BULKHEAD_CHANNEL_FD": str(CHANNEL_FD)}),
                stdin=subprocess.DEVNULL,
                stdout=self._stdout,
                stderr=self._stderr,
                pass_fds=(child.fileno(),),
                start_new_session=True,
            )
        finally:
            child.close()

    # -- commands ------------------------------------------------------------------------------

    def send(self, message: Message) -> None:
        self._sock.sendall((json.dumps(message) + "\n").encode())

    def send_raw(self, data: bytes) -> None:
        """Bytes on the command channel as they are: a command the supervisor would never send."""
        self._sock.sendall(data)

    def run(self, indices: Iterable[int]) -> None:
        self.send({"type": "run", "indices": list(indices)})

    def steal(self, indices: Iterable[int]) -> None:
        self.send({"type": "steal", "indices": list(indices)})

    def finish(self) -> None:
        self.send({"type": "finish"})

    def stop(self) -> None:
        self.send({"type": "stop"})

    def grant(self, token: str, waited_seconds: float = 0.0) -> None:
        """Answers a ``lock_acquire``, as the supervisor does once the lock is free."""
        self.send({"type": "lock_granted", "token": token, "waitedSeconds": waited_seconds})

    def close_channel(self) -> None:
        """Ends our side of the commands, as a supervisor that went away; messages still come."""
        self._sock.shutdown(socket.SHUT_WR)

    # -- messages ------------------------------------------------------------------------------

    def read(self, timeout: Optional[float] = None) -> Message:
        """The next message; TimeoutError if none comes in time, WorkerDied if the channel ends."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while b"\n" not in self._buffer:
            if self._eof:
                raise WorkerDied(f"channel closed; last messages {self.messages[-3:]}\n{self.output()}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no message; last messages {self.messages[-3:]}\n{self.output()}")
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(1 << 20)
            except socket.timeout:
                continue
            if not chunk:
                self._eof = True
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        message = json.loads(line)
        assert isinstance(message, dict) and isinstance(message.get("type"), str), line
        # Every message a worker sends in these tests must be one protocol.py defines, as the
        # supervisor's zod schemas read it (the contract test checks that the two agree).
        try:
            validate_message(message)
        except ProtocolError as error:
            raise AssertionError(f"the worker sent a message the protocol does not allow: {error}\n{line[:500]!r}") from None
        self.messages.append(message)
        return message

    def read_until(self, match: Match, timeout: Optional[float] = None) -> List[Message]:
        """The messages up to and including the first one that matches (a type or a predicate)."""
        test = (lambda m: m["type"] == match) if isinstance(match, str) else match
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        seen: List[Message] = []
        while True:
            message = self.read(max(0.0, deadline - time.monotonic()))
            seen.append(message)
            if test(message):
                return seen

    def expect_silence(self, seconds: float, ignore: Sequence[str] = ("heartbeat",)) -> None:
        """Asserts that no message arrives for a while, but for those of the ``ignore`` types.

        Heartbeats are ignored by default: the worker sends one every second, whatever it does.
        """
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                message = self.read(remaining)
            except TimeoutError:
                return
            if message["type"] not in ignore:
                raise AssertionError(f"unexpected message {message}")

    def wait_exit(self, timeout: Optional[float] = None) -> int:
        return self.proc.wait(self.timeout if timeout is None else timeout)

    def output(self) -> str:
        return f"--- stdout\n{self.stdout()}\n--- stderr\n{self.stderr()}"

    def stdout(self) -> str:
        return _read_all(self._stdout)

    def stderr(self) -> str:
        return _read_all(self._stderr)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self._sock.close()
        self._stdout.close()
        self._stderr.close()

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _read_all(file: Any) -> str:
    file.flush()
    file.seek(0)
    return file.read().decode("utf-8", "replace")


def run_worker(cwd: Path, args: Sequence[str] = (), python: str = sys.executable,
               env: Optional[Dict[str, str]] = None, timeout: float = DEFAULT_TIMEOUT) -> List[Message]:
    """Starts a worker, runs everything it collected in one command, finishes, returns all messages."""
    with Worker(cwd, args, python=python, env=env, timeout=timeout) as worker:
        collected = worker.read_until("collected")[-1]
        worker.run(range(len(collected["tests"])))
        worker.finish()
        worker.read_until("done")
        worker.wait_exit()
        return worker.messages


def of_type(messages: Iterable[Message], *types: str) -> List[Message]:
    return [m for m in messages if m["type"] in types]


_PHASE_ORDER = {"setup": 0, "call": 1, "teardown": 2}


def reports(messages: Iterable[Message], when: Optional[str] = None) -> List[Message]:
    """Every phase report, in the order the phases ran: the ones sent whole, and the plain ones
    (passed with nothing to show) that travel as [when, duration] on their test's ``finished``."""
    found: List[Message] = []
    for m in messages:
        if m["type"] == "report":
            found.append(m["report"])
        elif m["type"] == "finished":
            found.extend({"testId": m["id"], "when": w, "outcome": "passed", "duration": d, "plain": True} for w, d in m.get("plain", []))
    first: Dict[str, int] = {}
    for i, report in enumerate(found):
        first.setdefault(report["testId"], i)
    found.sort(key=lambda report: (first[report["testId"]], _PHASE_ORDER[report["when"]]))
    return [r for r in found if when is None or r["when"] == when]
