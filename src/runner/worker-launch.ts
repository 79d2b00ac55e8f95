/**
 * What one worker process is started with: pytest's launch (the user's arguments, our plugin)
 * with every per-worker setting bulkhead passes through its environment: its files (crash dumps,
 * stacks, coverage data), its thread caps, its xdist identity, recycling. The pool decides who the
 * worker is; this says how that reaches the process.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { workerLaunch, type WorkerLaunch } from '../adapters/pytest/worker-spec.js';
import { coverageDataDir } from './coverage-step.js';
import type { RunOptions } from '../core/options.js';
import { xdistWorkerId } from '../core/xdist-ids.js';

/** Who the worker is, as the core decided, and its files. */
export interface WorkerIdentity {
  role: 'pool' | 'standby' | 'isolated';
  xdistIndex: number | null;
  crashFile: string;
  stacksFile: string;
}

/** What is the same for every worker of one run. */
export interface RunIdentity {
  pythonDir: string;
  /** xdist's `testrun_uid` for this run. */
  testRunUid: string;
  /** The run's one random seed (pytest-randomly, pytest-random-order). */
  seed: number;
}

export function launchFor(slot: WorkerIdentity, options: RunOptions, run: RunIdentity): WorkerLaunch {
  const launch = workerLaunch({
    python: options.python,
    pythonDir: run.pythonDir,
    pytestArgs: options.pytestArgs,
    baseEnv: process.env,
    color: options.color,
    columns: options.columns,
    supervisorPid: process.pid,
    crashFile: slot.crashFile,
    heartbeatSeconds: options.heartbeatIntervalSeconds,
    stacks: { file: slot.stacksFile, everySeconds: stackDumpPeriod(options.heartbeatTimeoutSeconds) },
    // Each worker's share of the CPUs for BLAS/OpenMP pools, so nested parallelism does not
    // oversubscribe the machine.
    threadCap: options.threadCaps ? Math.max(1, Math.floor(availableParallelism() / Math.max(1, options.workers))) : null,
    mpStartMethod: options.mpStartMethod,
    junitPath: options.junitPath ?? null,
    coverageDir: coverageDataDir(options.scratchDir),
    identity:
      slot.xdistIndex === null
        ? null
        : { workerId: xdistWorkerId(slot.xdistIndex), workerCount: options.workers, testRunUid: run.testRunUid, seed: run.seed },
  });
  // The worker checks its own size after each test, before it starts the next (see run-memory.ts).
  // A test retried alone is the worker's only one: nothing to recycle it for.
  const recycleAt = options.memory.recycleBytes;
  if (recycleAt !== null && slot.role !== 'isolated') launch.env.BULKHEAD_RECYCLE_BYTES = String(recycleAt);
  return launch;
}

/** A worker's log of what it wrote outside pytest's capture, where artifacts are kept. */
export function workerLogPath(options: RunOptions, id: number): string | null {
  return options.artifactsDir ? join(options.artifactsDir, `worker-${id}.log`) : null;
}

/**
 * How often faulthandler's watchdog dumps a running test's stacks: twice within the heartbeat
 * limit, so a worker silent for that long always has a dump of its silence; at most every 10 s
 * (a long test's dumps add up), at least every half second.
 */
export function stackDumpPeriod(heartbeatTimeoutSeconds: number): number {
  return Math.max(0.5, Math.min(heartbeatTimeoutSeconds / 2, 10));
}
