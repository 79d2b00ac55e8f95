"""Processes a test leaves behind.

The worker makes itself a child subreaper (Linux), so a process that escapes with setsid or a
double fork is re-parented to the worker, not to init, and stays visible as its descendant.
After each test the worker lists its descendants through /proc/<pid>/task/<tid>/children, which
costs a few reads when there are none (the usual case).

And the worker's end of the lifeline: it dies with the supervisor (``die_with_supervisor``), and
kills what its tests left running before it goes (``kill_descendants``).
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import AbstractSet, Dict, List, Optional, Set

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
# The exit code of a worker that ends because the supervisor is gone (pytest's code for a session
# cut short; nobody is left to read it).
SUPERVISOR_GONE_EXIT = 2


def become_subreaper() -> bool:
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def die_with_supervisor(supervisor_pid: Optional[int]) -> bool:
    """Has the kernel SIGKILL this process when its parent dies, even if it cannot act itself.

    A stopped worker, or one stuck in C code that holds the GIL, cannot notice anything; the
    kernel's PR_SET_PDEATHSIG needs nothing of it. It fires when the parent *thread* that forked
    this process ends: bulkhead (Node) spawns from its main thread, which lives as long as bulkhead.
    It survives exec (the cgroup wrapper's /bin/sh execs the worker, so the parent is bulkhead
    itself) but not fork: what a test starts is left to the worker and to the run's reaper.

    The parent may have died before the setting took (it then never fires): a parent that is no
    longer bulkhead while bulkhead is gone ends the worker now. A parent that is not bulkhead
    while bulkhead lives is a wrapper (`--python` a script that runs python as its child).
    """
    armed = _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if supervisor_pid is not None and os.getppid() != supervisor_pid and not _alive(supervisor_pid):
        os._exit(SUPERVISOR_GONE_EXIT)
    return armed


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: alive, someone else's
    return True


def _children(pid: int) -> List[int]:
    found: List[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as handle:
                found.extend(int(part) for part in handle.read().split())
        except (OSError, ValueError):
            continue
    return found


def _describe(pid: int) -> Dict[str, object]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmd = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        state, start_time = fields[0], int(fields[19])
    except (OSError, IndexError, ValueError):
        return {}
    if state in ("Z", "X"):  # a zombie is already dead; it only waits to be reaped
        return {}
    if not cmd:
        try:
            with open(f"/proc/{pid}/comm") as handle:
                cmd = f"[{handle.read().strip()}]"
        except OSError:
            cmd = "?"
    return {"pid": pid, "cmd": cmd[:200], "startTime": start_time}


def living_descendants(root: int, helpers: AbstractSet[int] = frozenset()) -> List[Dict[str, object]]:
    """Descendants of `root` that are still running, with their command lines.

    ``helpers`` are left out (their own children are not): processes the interpreter keeps on
    purpose, as ``multiprocessing_helpers`` finds them.
    """
    result: List[Dict[str, object]] = []
    seen: Set[int] = set()
    stack = _children(root)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        described = _describe(pid) if pid not in helpers else {}
        if described:
            result.append(described)
        stack.extend(_children(pid))
    return result


def multiprocessing_helpers() -> Set[int]:
    """The pids of multiprocessing's forkserver and resource tracker, where they run.

    Started by the first test that uses multiprocessing with the spawn or forkserver start method
    (which bulkhead may choose for its workers), they live as long as the worker on purpose: no
    test left them behind. Read from the modules only where the test code imported them.
    """
    pids: Set[int] = set()
    forkserver = sys.modules.get("multiprocessing.forkserver")
    tracker = sys.modules.get("multiprocessing.resource_tracker")
    for owner, attribute in ((getattr(forkserver, "_forkserver", None), "_forkserver_pid"),
                             (getattr(tracker, "_resource_tracker", None), "_pid")):
        pid = getattr(owner, attribute, None)
        if isinstance(pid, int):
            pids.add(pid)
    return pids


def kill_descendants(root: int, rounds: int = 10) -> None:
    """SIGKILLs every descendant. Each is stopped first, and the tree searched again until no new
    one turns up, so that a process forking in a loop cannot keep a child past the search."""
    stopped: Set[int] = set()
    for _ in range(rounds):
        found = {int(process["pid"]) for process in living_descendants(root)} - stopped
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGSTOP)
                stopped.add(pid)
            except OSError:
                pass
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
