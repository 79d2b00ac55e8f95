/**
 * How to start one pytest worker: the user's pytest arguments unchanged, plus our plugin, run by
 * a launcher that behaves like the `pytest` command (not `python -m pytest`, which would put the
 * cwd on sys.path and change what imports), with every per-worker setting the run decided passed
 * through its environment (the variables are listed in environment.ts).
 */
import { join } from 'node:path';
import type { WorkerIdentity, WorkerLaunch, WorkerLaunchRequest, WorkerMemoryLimits } from '../framework-adapter.js';
import { ENV } from '../../model/environment.js';

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

/** The environment pytest-xdist's own workers have (xdist/remote.py sets these three). */
export const XDIST_ENV_VARIABLES = ['PYTEST_XDIST_WORKER', 'PYTEST_XDIST_WORKER_COUNT', 'PYTEST_XDIST_TESTRUNUID'] as const;

export interface WorkerLaunchOptions extends WorkerLaunchRequest {
  /** The folder that holds the launcher and the plugin (python/ in the package). */
  pythonDir: string;
}

/**
 * The identity (see WorkerIdentity) becomes xdist's variables, which the worker
 * (xdist_identity.py) turns into `config.workerinput` as xdist's controller would have sent it.
 * Without one, any PYTEST_XDIST_* inherited from bulkhead's own environment is removed, so no
 * worker claims an id it was not given.
 */
export function workerLaunch(options: WorkerLaunchOptions): WorkerLaunch {
  return {
    command: options.interpreter,
    args: [join(options.pythonDir, 'bulkhead-worker.py'), '-p', 'bulkhead_pytest.plugin', ...options.frameworkArgs],
    env: {
      ...withoutXdistEnv(options.baseEnv),
      ...identityEnv(options.identity ?? null),
      [ENV.color.name]: options.color ? '1' : '0',
      [ENV.supervisorPid.name]: String(options.supervisorPid),
      COLUMNS: String(options.columns),
      [ENV.crashFile.name]: options.crashFile,
      [ENV.heartbeatSeconds.name]: String(options.heartbeatSeconds),
      ...(options.stacks ? { [ENV.stacksFile.name]: options.stacks.file, [ENV.stacksSeconds.name]: String(options.stacks.everySeconds) } : {}),
      PYTHONUNBUFFERED: '1',
      ...threadCapEnv(options.threadCap ?? null, options.baseEnv),
      ...(options.mpStartMethod ? { [ENV.mpStartMethod.name]: options.mpStartMethod } : {}),
      ...(options.junitPath ? { [ENV.junit.name]: options.junitPath } : {}),
      ...(options.coverageDir ? { [ENV.coverageDir.name]: options.coverageDir } : {}),
      ...(options.recycleBytes !== null && options.recycleBytes !== undefined ? { [ENV.recycleBytes.name]: String(options.recycleBytes) } : {}),
      ...memoryEnv(options.memory ?? null),
      ...(options.collectOnly ? { [ENV.collectOnly.name]: JSON.stringify(options.collectOnly) } : {}),
    },
    channelFdVariable: ENV.channelFd.name,
    journalFdVariable: ENV.journalFd.name,
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
    [ENV.runSeed.name]: String(identity.seed),
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
  env[ENV.threadCapped.name] = THREAD_CAP_VARIABLES.filter((name) => name in env).join(',');
  return env;
}

/** A cgroup v1 leaf the worker reads its peaks from, else RLIMIT_DATA the launcher sets. */
function memoryEnv(memory: WorkerMemoryLimits | null): Record<string, string> {
  if (memory === null) return {};
  if (memory.cgroupPath !== null) return { [ENV.memoryCgroup.name]: memory.cgroupPath };
  if (memory.dataLimitBytes !== null) return { [ENV.rlimitData.name]: String(memory.dataLimitBytes) };
  return {};
}
