import { join } from 'node:path';

export interface WorkerLaunch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export type MpStartMethod = 'fork' | 'spawn' | 'forkserver';

/**
 * The variables that size the thread pools of the native libraries tests load (OpenMP, OpenBLAS,
 * MKL, BLIS, Accelerate, numexpr, numba). Each of them starts one thread per CPU by default, so N
 * workers would run N x CPUs threads on CPUs they share.
 */
export const THREAD_CAP_VARIABLES = [
  'OMP_NUM_THREADS',
  'OPENBLAS_NUM_THREADS',
  'MKL_NUM_THREADS',
  'BLIS_NUM_THREADS',
  'VECLIB_MAXIMUM_THREADS',
  'NUMEXPR_NUM_THREADS',
  'NUMBA_NUM_THREADS',
] as const;

export interface WorkerLaunchOptions {
  python: string;
  pythonDir: string;
  pytestArgs: readonly string[];
  baseEnv: NodeJS.ProcessEnv;
  color: boolean;
  columns: number;
  supervisorPid: number;
  /** Where faulthandler writes the Python stacks on a crash or on SIGUSR1. */
  crashFile: string;
  heartbeatSeconds: number;
  /**
   * Where faulthandler's watchdog thread dumps the running test's stacks, and how often: stacks
   * taken without a signal (see stack_watch.py). Absent: none (stacks come by SIGUSR1).
   */
  stacks?: { file: string; everySeconds: number } | null;
  /**
   * Threads each native thread pool of a worker may start (THREAD_CAP_VARIABLES, and Hugging Face
   * tokenizers' parallelism off); a variable the user's environment sets is left as it is.
   * null or absent: no cap.
   */
  threadCap?: number | null;
  /** multiprocessing's start method in the worker, set before pytest imports; null or absent: Python's default. */
  mpStartMethod?: MpStartMethod | null;
  /**
   * bulkhead's --junit: the worker renders every testcase with pytest's junitxml as `--junitxml`
   * to this file would (the supervisor writes the file). null or absent: only where pytest's own
   * --junitxml asks for it.
   */
  junitPath?: string | null;
  /** Where pytest-cov's measurement (`--cov`) saves this worker's parallel data file; absent: no `--cov` support. */
  coverageDir?: string | null;
  /**
   * Who this worker is, as pytest-xdist would say it (see xdist-identity below). null or absent:
   * none, and any PYTEST_XDIST_* inherited from bulkhead's own environment is removed, so no
   * worker claims an id it was not given.
   */
  identity?: WorkerIdentity | null;
}

/**
 * A worker's identity in xdist's terms, and the run's one random seed. The worker (xdist_identity.py)
 * turns it into `config.workerinput` as xdist's controller would have sent it.
 */
export interface WorkerIdentity {
  /** `gw0`, `gw1`, ...: unique among live workers, reused by the replacement of a dead one. */
  workerId: string;
  /** The pool size (`-w`), as `len(specs)` is for xdist. */
  workerCount: number;
  /** One per run, shared by every worker: xdist's `testrun_uid`. */
  testRunUid: string;
  /** One per run: the seed pytest-randomly and pytest-random-order get when the user gives none. */
  seed: number;
}

/** The environment pytest-xdist's own workers have (xdist/remote.py sets these three). */
export const XDIST_ENV_VARIABLES = ['PYTEST_XDIST_WORKER', 'PYTEST_XDIST_WORKER_COUNT', 'PYTEST_XDIST_TESTRUNUID'] as const;

/**
 * How to start one pytest worker: the user's pytest arguments unchanged, plus our plugin, run by
 * a launcher that behaves like the `pytest` command (not `python -m pytest`, which would put the
 * cwd on sys.path and change what imports).
 */
export function workerLaunch(options: WorkerLaunchOptions): WorkerLaunch {
  return {
    command: options.python,
    args: [join(options.pythonDir, 'bulkhead-worker.py'), '-p', 'bulkhead_pytest.plugin', ...options.pytestArgs],
    env: {
      ...withoutXdistEnv(options.baseEnv),
      ...identityEnv(options.identity ?? null),
      BULKHEAD_COLOR: options.color ? '1' : '0',
      BULKHEAD_SUPERVISOR_PID: String(options.supervisorPid),
      COLUMNS: String(options.columns),
      BULKHEAD_CRASH_FILE: options.crashFile,
      BULKHEAD_HEARTBEAT_SECONDS: String(options.heartbeatSeconds),
      ...(options.stacks ? { BULKHEAD_STACKS_FILE: options.stacks.file, BULKHEAD_STACKS_SECONDS: String(options.stacks.everySeconds) } : {}),
      PYTHONUNBUFFERED: '1',
      ...threadCapEnv(options.threadCap ?? null, options.baseEnv),
      ...(options.mpStartMethod ? { BULKHEAD_MP_START_METHOD: options.mpStartMethod } : {}),
      ...(options.junitPath ? { BULKHEAD_JUNIT: options.junitPath } : {}),
      ...(options.coverageDir ? { BULKHEAD_COVERAGE_DIR: options.coverageDir } : {}),
    },
  };
}

function withoutXdistEnv(baseEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...baseEnv };
  for (const name of XDIST_ENV_VARIABLES) delete env[name];
  return env;
}

function identityEnv(identity: WorkerIdentity | null): Record<string, string> {
  if (identity === null) return {};
  return {
    PYTEST_XDIST_WORKER: identity.workerId,
    PYTEST_XDIST_WORKER_COUNT: String(identity.workerCount),
    PYTEST_XDIST_TESTRUNUID: identity.testRunUid,
    BULKHEAD_RUN_SEED: String(identity.seed),
  };
}

/** The thread-cap variables to add: every one the user's environment does not set already. */
function threadCapEnv(threadCap: number | null, baseEnv: NodeJS.ProcessEnv): Record<string, string> {
  if (threadCap === null) return {};
  if (!Number.isInteger(threadCap) || threadCap < 1) {
    throw new RangeError(`thread cap ${threadCap}: must be an integer >= 1`);
  }
  const wanted: Record<string, string> = { TOKENIZERS_PARALLELISM: 'false' };
  for (const name of THREAD_CAP_VARIABLES) wanted[name] = String(threadCap);
  // Set to anything, even empty, a variable is the user's choice (a wrapper script's, a CI image's).
  const env = Object.fromEntries(Object.entries(wanted).filter(([name]) => baseEnv[name] === undefined));
  // The worker raises these (and only these) for a test that reserves more CPU slots.
  env.BULKHEAD_THREAD_CAPPED = THREAD_CAP_VARIABLES.filter((name) => name in env).join(',');
  return env;
}

/**
 * Options that make pytest do something other than run tests (list them, show help, debug one
 * interactively): bulkhead hands these to one plain pytest process with the terminal attached.
 */
const PLAIN_PYTEST_OPTIONS = new Set([
  '--collect-only',
  '--co',
  '--fixtures',
  '--funcargs',
  '--fixtures-per-test',
  '--markers',
  '-h',
  '--help',
  '-V',
  '--version',
  '--cache-show',
  '--setup-plan',
  '--pdb',
  '--trace',
]);

export function plainPytestReason(args: readonly string[]): string | null {
  for (const arg of args) {
    if (arg === '--') break;
    const name = arg.split('=', 1)[0]!;
    if (PLAIN_PYTEST_OPTIONS.has(name)) return name;
  }
  return null;
}
