"""The run's reaper: kills every process of a bulkhead run once bulkhead itself has died.

bulkhead (the supervisor) starts it when a run starts, in a session of its own (a Ctrl-C or a
kill of bulkhead's process group does not reach it), with one end of a pipe on its stdin and
nothing else of bulkhead's. It is told, one JSON object a line (src/supervisor/run-reaper.ts):

    {"type": "run", "runId": "...", "marker": NAME, "supervisorPid": N, "cgroups": [dir, ...]}   first
    {"type": "worker", "pid": N, "pgid": N, "cgroups": [dir, ...]}              each worker started
    {"type": "gone", "pid": N}                                                  each worker reaped
    {"type": "bye"}                                                             the run is over

The kernel closes the supervisor's end of the pipe however the supervisor ends, SIGKILL and the OOM
killer included. End of input after "bye": exit, killing nothing. End of input without it: the
supervisor died, and the workers may be unable to act (stopped, stuck in C holding the GIL) or
their children orphaned. Then everything of the run is killed: `cgroup.kill` of the run's cgroups,
every process in them, every process in a worker's process group, and every process whose
environment holds the run's marker (the variable the run message names); all of these are stopped (SIGSTOP) before
they are killed, so none can fork a child past the search. Then the run's cgroups are removed,
children first, and it exits. The whole of it is bounded (REAP_SECONDS).

Started as `python -I -S bulkhead-reaper.py` with the interpreter under test: isolated (no
PYTHON* variables, no user site, not the cwd on sys.path) and no site import, so nothing of the
project under test runs here. The standard library only; Python >= 3.9.
"""
import json
import os
import signal
import sys
import time

# Stopping, killing and removing cgroups, all told (a cgroup is removed once the kernel has
# finished killing what was in it, usually within milliseconds).
REAP_SECONDS = 1.5
# Searches for processes of the run, each stopping what the last one found: a process forked just
# before its parent was stopped is found by the next.
SEARCH_ROUNDS = 10


class Run:
    def __init__(self):
        self.run_id = None
        self.marker = b""
        self.supervisor_pid = None
        self.cgroups = []
        # pid -> (pgid, start time, cgroups) of each live worker
        self.workers = {}

    def take(self, message):
        """Applies one message; True once the supervisor said goodbye."""
        kind = message.get("type")
        if kind == "run":
            self.run_id = str(message["runId"]).encode()
            self.marker = str(message.get("marker", "")).encode()
            self.supervisor_pid = message.get("supervisorPid")
            self.cgroups = [str(d) for d in message.get("cgroups", [])]
        elif kind == "worker":
            pid = int(message["pid"])
            # Its start time tells it from a later process given the same pid.
            self.workers[pid] = (int(message.get("pgid", pid)), start_time(pid), [str(d) for d in message.get("cgroups", [])])
        elif kind == "gone":
            self.workers.pop(int(message["pid"]), None)
        elif kind == "bye":
            return True
        return False

    def groups(self):
        groups = set()
        for pid, (pgid, started, _) in self.workers.items():
            now = start_time(pid)
            # A worker pid alive with another start time is a new process: the worker and its group
            # are gone (the kernel gives no process a pid that is still some group's id).
            if now is None or now == started:
                groups.add(pgid)
        return groups

    def all_cgroups(self):
        dirs = list(self.cgroups)
        for _, _, cgroups in self.workers.values():
            dirs.extend(cgroups)
        return dirs


def main():
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    run = Run()
    buffered = b""
    while True:
        try:
            chunk = os.read(0, 65536)
        except InterruptedError:
            continue
        except OSError:
            chunk = b""
        if not chunk:
            break
        buffered += chunk
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            try:
                if run.take(json.loads(line)):
                    return 0
            except (ValueError, KeyError, TypeError):
                say("ignored a malformed line from the supervisor: %r" % line[:200])
    reap(run)
    return 0


def reap(run):
    deadline = time.monotonic() + REAP_SECONDS
    me = os.getpid()
    cgroups = folders_below(run.all_cgroups())
    groups = run.groups()
    killed = set(pid for folder in cgroups for pid in cgroup_pids(folder))
    # cgroup v2: the kernel kills every process in the folder and below, a forking one included.
    for folder in cgroups:
        write(os.path.join(folder, "cgroup.kill"), "1")
    # What cgroup.kill cannot reach (a v1 folder, a process that left its worker's cgroup, a
    # machine without cgroups): stopped while we search, so nothing forks past us, then killed.
    stopped = set()
    for _ in range(SEARCH_ROUNDS):
        found = set(pid for folder in cgroups for pid in cgroup_pids(folder))
        found |= processes_of(run.marker, run.run_id, groups)
        found -= stopped | {me}
        if not found or time.monotonic() > deadline:
            break
        for pid in found:
            if signal_quietly(pid, signal.SIGSTOP):
                stopped.add(pid)
    for pid in stopped:
        signal_quietly(pid, signal.SIGKILL)
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    killed |= stopped
    removed = remove_cgroups(cgroups, deadline)
    if not killed:
        return  # bulkhead ended without its goodbye, but nothing of its run was left to kill
    say(
        "bulkhead (pid %s) died during its run; killed %d process%s of the run, removed %d of %d cgroup%s"
        % (run.supervisor_pid, len(killed), "" if len(killed) == 1 else "es", removed, len(cgroups), "" if len(cgroups) == 1 else "s")
    )


def processes_of(marker_variable, run_id, groups):
    """Living processes in one of the groups, or whose environment holds the run's marker."""
    marker = marker_variable + b"=" + run_id if run_id and marker_variable else None
    found = set()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found  # no /proc: the groups are still killed whole below
    for entry in entries:
        if not entry.isdigit():
            continue
        pid = int(entry)
        stat = proc_stat(pid)
        if stat is None or stat[0] in "ZX":
            continue
        if stat[1] in groups:
            found.add(pid)
            continue
        if marker is not None:
            try:
                with open("/proc/%d/environ" % pid, "rb") as handle:
                    if marker in handle.read().split(b"\0"):
                        found.add(pid)
            except OSError:
                pass
    return found


def proc_stat(pid):
    """(state, process group, start time) of a process, or None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            text = handle.read()
    except OSError:
        return None
    # The command name is in parentheses and may hold anything: fields start after the last ')'.
    fields = text[text.rfind(b")") + 2:].split()
    try:
        return fields[0].decode(), int(fields[2]), int(fields[19])
    except (IndexError, ValueError):
        return None


def start_time(pid):
    stat = proc_stat(pid)
    return stat[2] if stat is not None else None


def folders_below(roots):
    """Every existing folder at or below the roots, deepest first, each once."""
    seen = []
    for root in roots:
        for folder, _, _ in os.walk(root, topdown=False):
            if folder not in seen:
                seen.append(folder)
    return sorted(seen, key=lambda folder: folder.count("/"), reverse=True)


def cgroup_pids(folder):
    try:
        with open(os.path.join(folder, "cgroup.procs")) as handle:
            return [int(line) for line in handle.read().split()]
    except (OSError, ValueError):
        return []


def remove_cgroups(folders, deadline):
    """Removes each folder (deepest first) once the kernel has emptied it; how many went."""
    removed = 0
    for folder in folders:
        while True:
            try:
                os.rmdir(folder)
                removed += 1
                break
            except FileNotFoundError:
                break
            except OSError:
                # EBUSY while a killed process is still leaving it.
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
    return removed


def signal_quietly(pid, sig):
    try:
        os.kill(pid, sig)
        return True
    except OSError:
        return False


def write(path, text):
    try:
        with open(path, "w") as handle:
            handle.write(text)
    except OSError:
        pass  # not cgroup v2, or nothing left in it


def say(text):
    try:
        sys.stderr.write("bulkhead: reaper: %s\n" % text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # nobody reads bulkhead's stderr any more


if __name__ == "__main__":
    sys.exit(main())
