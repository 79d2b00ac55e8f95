"""Every BULKHEAD_* environment variable a worker receives, in one place: the names the plugin and
the launcher read (each use goes through these constants), what each means and who sets it.

The supervisor's side is src/model/environment.ts, whose table lists these and the CLI's
own; test/model/environment.test.ts checks that every BULKHEAD_* name in
python/bulkhead_pytest/ (and the launchers) is one of ``VARIABLES`` and that both tables agree.
Only the standard library here: the launcher imports it before pytest.
"""
from __future__ import annotations

from typing import Dict

CHANNEL_FD = "BULKHEAD_CHANNEL_FD"
JOURNAL_FD = "BULKHEAD_JOURNAL_FD"
COLOR = "BULKHEAD_COLOR"
SUPERVISOR_PID = "BULKHEAD_SUPERVISOR_PID"
CRASH_FILE = "BULKHEAD_CRASH_FILE"
HEARTBEAT_SECONDS = "BULKHEAD_HEARTBEAT_SECONDS"
STACKS_FILE = "BULKHEAD_STACKS_FILE"
STACKS_SECONDS = "BULKHEAD_STACKS_SECONDS"
MP_START_METHOD = "BULKHEAD_MP_START_METHOD"
JUNIT = "BULKHEAD_JUNIT"
COVERAGE_DIR = "BULKHEAD_COVERAGE_DIR"
RUN_SEED = "BULKHEAD_RUN_SEED"
THREAD_CAPPED = "BULKHEAD_THREAD_CAPPED"
RECYCLE_BYTES = "BULKHEAD_RECYCLE_BYTES"
MEMORY_CGROUP = "BULKHEAD_MEMORY_CGROUP"
RLIMIT_DATA = "BULKHEAD_RLIMIT_DATA"
RUN_ID = "BULKHEAD_RUN_ID"
COLLECT_ONLY = "BULKHEAD_COLLECT_ONLY"

# name -> (what it means, who sets it); every one is set by the supervisor's pytest adapter
# (src/adapters/pytest/worker-spec.ts) but the channel's, which the process runtime sets.
VARIABLES: Dict[str, str] = {
    CHANNEL_FD: "the fd of the message channel; set: this pytest is a bulkhead worker (plugin.py, channel.py)",
    JOURNAL_FD: "the fd of the worker's journal: every message goes there, the channel carries a doorbell (channel.py)",
    COLOR: "1: colour pytest's output under --color=auto (worker.py)",
    SUPERVISOR_PID: "the supervisor's pid, for tests that want to know they run under bulkhead (not read here)",
    CRASH_FILE: "where faulthandler writes the Python stacks on a crash or SIGUSR1 (launcher, crash_dump.py)",
    HEARTBEAT_SECONDS: "how often the worker sends a heartbeat (worker.py)",
    STACKS_FILE: "where faulthandler's watchdog keeps dumping the running test's stacks (stack_watch.py)",
    STACKS_SECONDS: "how often it dumps (stack_watch.py)",
    MP_START_METHOD: "multiprocessing's start method, set before pytest imports (launcher)",
    JUNIT: "bulkhead's --junit file: render each testcase for it, never write it (junit.py)",
    COVERAGE_DIR: "where --cov saves this worker's parallel data file (coverage_worker.py)",
    RUN_SEED: "the run's one random seed for pytest-randomly and pytest-random-order (xdist_identity.py)",
    THREAD_CAPPED: "the thread-cap variables bulkhead set, the only ones raised for a test (thread_caps.py)",
    RECYCLE_BYTES: "past this resident size after a test, give back what is held and end (worker.py)",
    MEMORY_CGROUP: "the worker's cgroup v1 memory leaf, where each test's peak is read (memory.py)",
    RLIMIT_DATA: "RLIMIT_DATA to set before anything is imported (launcher)",
    RUN_ID: "the run's marker, inherited by what the tests start: the reaper kills every process holding it if bulkhead dies (not read here)",
    COLLECT_ONLY: "a JSON list of absolute test file paths: collect only these (a fresh worker for an isolated retry; collect_only.py)",
}
