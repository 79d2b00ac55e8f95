/**
 * Every BULKHEAD_* environment variable, in one place: its meaning, who sets it and who reads it.
 * Every use in src/ goes through this table; python/bulkhead_pytest/environment.py is the worker's
 * side of it, and test/adapters/pytest/environment.test.ts fails on a name in either tree that
 * neither table lists (or on the two tables disagreeing).
 */
export interface EnvVariable {
  readonly name: string;
  readonly meaning: string;
  readonly setBy: string;
  /** `cli`: read by bulkhead itself; `worker`: passed to the worker process (python/bulkhead_pytest/environment.py). */
  readonly side: 'cli' | 'worker';
}

export const ENV = {
  python: {
    name: 'BULKHEAD_PYTHON',
    meaning: "the interpreter that has pytest, when --python (or the config's python) is not given",
    setBy: 'the user',
    side: 'cli',
  },
  runId: {
    name: 'BULKHEAD_RUN_ID',
    meaning: "the run's marker, inherited by every process a worker's tests start: should bulkhead die, the reaper (python/bulkhead-reaper.py) kills every process that holds it",
    setBy: 'the supervisor (supervisor/run-reaper.ts)',
    side: 'worker',
  },
  channelFd: {
    name: 'BULKHEAD_CHANNEL_FD',
    meaning: "the file descriptor of the worker's message channel; set: this pytest is a bulkhead worker",
    setBy: "the supervisor (supervisor/worker-process.ts), under the name the adapter's launch gives",
    side: 'worker',
  },
  journalFd: {
    name: 'BULKHEAD_JOURNAL_FD',
    meaning: "the file descriptor of the worker's journal (a file shared with the supervisor and unlinked): every message goes there, the channel carries a doorbell",
    setBy: "the supervisor (supervisor/worker-process.ts), under the name the adapter's launch gives",
    side: 'worker',
  },
  color: {
    name: 'BULKHEAD_COLOR',
    meaning: "1: render pytest's output with colour under --color=auto (bulkhead's terminal has it)",
    setBy: 'the pytest adapter (worker-spec.ts)',
    side: 'worker',
  },
  supervisorPid: {
    name: 'BULKHEAD_SUPERVISOR_PID',
    meaning: "the supervisor's pid: lets a test (or a tool it starts) tell that it runs under bulkhead; the plugin does not read it",
    setBy: 'the pytest adapter (worker-spec.ts)',
    side: 'worker',
  },
  crashFile: {
    name: 'BULKHEAD_CRASH_FILE',
    meaning: "where faulthandler writes the worker's Python stacks on a crash or on SIGUSR1",
    setBy: 'the pytest adapter (worker-spec.ts), a path the pool chose',
    side: 'worker',
  },
  heartbeatSeconds: {
    name: 'BULKHEAD_HEARTBEAT_SECONDS',
    meaning: 'how often the worker sends a heartbeat',
    setBy: 'the pytest adapter (worker-spec.ts), from the run options',
    side: 'worker',
  },
  stacksFile: {
    name: 'BULKHEAD_STACKS_FILE',
    meaning: "where faulthandler's watchdog thread keeps dumping the running test's stacks (no signal needed)",
    setBy: 'the pytest adapter (worker-spec.ts)',
    side: 'worker',
  },
  stacksSeconds: {
    name: 'BULKHEAD_STACKS_SECONDS',
    meaning: 'how often that watchdog dumps',
    setBy: 'the pytest adapter (worker-spec.ts)',
    side: 'worker',
  },
  mpStartMethod: {
    name: 'BULKHEAD_MP_START_METHOD',
    meaning: "multiprocessing's start method (fork, spawn, forkserver), set by the launcher before pytest imports",
    setBy: 'the pytest adapter (worker-spec.ts), from --mp-start-method',
    side: 'worker',
  },
  junit: {
    name: 'BULKHEAD_JUNIT',
    meaning: "bulkhead's --junit file: the worker renders each testcase with pytest's junitxml for it (it never writes the file)",
    setBy: 'the pytest adapter (worker-spec.ts)',
    side: 'worker',
  },
  coverageDir: {
    name: 'BULKHEAD_COVERAGE_DIR',
    meaning: "where pytest-cov's measurement (--cov) saves this worker's parallel data file",
    setBy: 'the pytest adapter (worker-spec.ts), the run scratch folder',
    side: 'worker',
  },
  runSeed: {
    name: 'BULKHEAD_RUN_SEED',
    meaning: "the run's one random seed, given to pytest-randomly and pytest-random-order when the user gives none",
    setBy: 'the pytest adapter (worker-spec.ts), with the xdist identity',
    side: 'worker',
  },
  threadCapped: {
    name: 'BULKHEAD_THREAD_CAPPED',
    meaning: 'the thread-cap variables bulkhead set (comma-separated): the only ones the worker raises for a test that reserves more CPUs',
    setBy: 'the pytest adapter (worker-spec.ts)',
    side: 'worker',
  },
  recycleBytes: {
    name: 'BULKHEAD_RECYCLE_BYTES',
    meaning: 'past this resident size after a test, the worker gives back what it holds and ends (--worker-recycle-memory)',
    setBy: 'the pytest adapter (worker-spec.ts), from the launch request',
    side: 'worker',
  },
  memoryCgroup: {
    name: 'BULKHEAD_MEMORY_CGROUP',
    meaning: "the worker's cgroup v1 memory leaf, where it reads each test's peak",
    setBy: 'the pytest adapter (worker-spec.ts), from the leaf the pool memory chose',
    side: 'worker',
  },
  rlimitData: {
    name: 'BULKHEAD_RLIMIT_DATA',
    meaning: 'RLIMIT_DATA the launcher sets on the worker before anything is imported (the rung without cgroups)',
    setBy: 'the pytest adapter (worker-spec.ts), from the cap the pool memory chose',
    side: 'worker',
  },
  collectOnly: {
    name: 'BULKHEAD_COLLECT_ONLY',
    meaning: 'a JSON list of absolute test file paths: the worker collects only these (a fresh worker for an isolated retry)',
    setBy: 'the pytest adapter (worker-spec.ts), from the files the run core named for the retried test',
    side: 'worker',
  },
} as const satisfies Record<string, EnvVariable>;

export type EnvKey = keyof typeof ENV;

/** Every variable of the table. */
export const ENV_VARIABLES: readonly EnvVariable[] = Object.values(ENV);
