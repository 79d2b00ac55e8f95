"""A worker dies with the supervisor that started it, even when it cannot act itself.

The launcher sets PR_SET_PDEATHSIG (SIGKILL) before anything else, so a worker stopped by SIGSTOP,
or stuck in C code holding the GIL while a conftest is imported, is killed by the kernel when its
parent dies. Here the parent is a small stand-in supervisor that starts the worker and waits.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Iterator, List

import pytest

from bulkhead_pytest.processes import SUPERVISOR_GONE_EXIT
from driver import LAUNCHER, clean_env

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")

# Starts the worker as its child with a channel, as bulkhead does, prints its pid, then waits.
STAND_IN_SUPERVISOR = textwrap.dedent(
    """
    import os, socket, subprocess, sys, time

    ours, theirs = socket.socketpair()
    env = dict(os.environ, BULKHEAD_CHANNEL_FD=str(theirs.fileno()), BULKHEAD_SUPERVISOR_PID=str(os.getpid()))
    worker = subprocess.Popen(
        [sys.executable, sys.argv[1], "-p", "bulkhead_pytest.plugin"],
        env=env, pass_fds=(theirs.fileno(),), start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    print(worker.pid, flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def pids() -> Iterator[List[int]]:
    """Pids to SIGKILL at teardown, whatever happened (SIGKILL also ends a stopped process)."""
    started: List[int] = []
    yield started
    for pid in started:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def wait_for(path: Path, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def state_of(pid: int) -> str:
    """The kernel's state letter of a process; "gone" once it no longer exists."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while state_of(pid) not in ("gone", "Z", "X"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.parametrize("how", ["stuck in C holding the GIL", "stopped"])
def test_a_worker_that_cannot_act_dies_with_its_supervisor(pytester: pytest.Pytester, pids: List[int], how: str) -> None:
    # In a conftest, while pytest starts: none of the worker session's threads runs yet.
    marker = pytester.path / "importing"
    hold = "ctypes.PyDLL(None).sleep(30)" if how.startswith("stuck") else "time.sleep(30)"
    pytester.makeconftest(f"import ctypes, time\nopen({str(marker)!r}, 'w').close()\n{hold}\n")
    supervisor = subprocess.Popen(
        [sys.executable, "-c", STAND_IN_SUPERVISOR, str(LAUNCHER)],
        cwd=str(pytester.path), env=clean_env(), stdout=subprocess.PIPE, start_new_session=True,
    )
    pids.append(supervisor.pid)
    worker = int(supervisor.stdout.readline())
    pids.append(worker)
    wait_for(marker)
    if how == "stopped":
        os.kill(worker, signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while state_of(worker) != "T":
            assert time.monotonic() < deadline, "the worker did not stop"
            time.sleep(0.01)
    supervisor.kill()
    supervisor.wait(10)
    assert gone_within(worker, 1.0), f"the worker ({state_of(worker)}) outlived its supervisor by 1 s"


def test_a_worker_whose_supervisor_died_before_it_started_ends_at_once(pytester: pytest.Pytester) -> None:
    # The parent died before PR_SET_PDEATHSIG took (which then never fires): the worker sees that
    # its parent is not the supervisor, and that the supervisor is gone.
    pytester.makepyfile("def test_0(): pass\n")
    dead = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1  # no process has this pid
    ours, theirs = socket.socketpair()
    with ours, theirs:
        env = clean_env({"BULKHEAD_CHANNEL_FD": str(theirs.fileno()), "BULKHEAD_SUPERVISOR_PID": str(dead)})
        done = subprocess.run(
            [sys.executable, str(LAUNCHER), "-p", "bulkhead_pytest.plugin"], cwd=str(pytester.path), env=env,
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
        )
        theirs.close()
        ours.settimeout(5)
        assert done.returncode == SUPERVISOR_GONE_EXIT, done.stderr
        assert ours.recv(1 << 16) == b"", "it ended before saying hello"


def test_a_parent_that_is_not_the_live_supervisor_is_a_wrapper_and_the_worker_runs(pytester: pytest.Pytester) -> None:
    # `--python` may be a script that runs python as its child: the parent is then not bulkhead,
    # which lives on; the worker must not take that for bulkhead's death.
    pytester.makepyfile("def test_0(): pass\n")
    ours, theirs = socket.socketpair()
    with ours, theirs:
        env = clean_env({"BULKHEAD_CHANNEL_FD": str(theirs.fileno()), "BULKHEAD_SUPERVISOR_PID": str(os.getppid())})
        worker = subprocess.Popen(
            [sys.executable, str(LAUNCHER), "-p", "bulkhead_pytest.plugin"], cwd=str(pytester.path), env=env,
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            theirs.close()
            ours.settimeout(30)
            received = b""
            while b'"type":"collected"' not in received:
                chunk = ours.recv(1 << 16)
                assert chunk, f"the worker ended (code {worker.wait(10)}) before it collected"
                received += chunk
        finally:
            worker.kill()
            worker.wait(10)
