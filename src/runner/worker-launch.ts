/**
 * What one worker process is started with: the run's decisions about it (its files for crash
 * dumps, stacks and coverage data, its thread caps, its xdist identity, recycling, its memory
 * limits), handed to the framework adapter, which says how they reach the process. The pool
 * decides who the worker is.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { FrameworkAdapter, WorkerLaunch, WorkerMemoryLimits } from '../adapters/framework-adapter.js';
import { coverageDataDir } from './coverage-step.js';
import type { RunOptions } from '../core/options.js';
import type { CollectScope } from '../core/targeted-collection.js';
import { xdistWorkerId } from '../core/xdist-ids.js';

/** Who the worker is, as the core decided, and its files. */
export interface WorkerIdentity {
  role: 'pool' | 'standby' | 'isolated';
  xdistIndex: number | null;
  crashFile: string;
  stacksFile: string;
  /** The only files it collects, relative to the rootdir (a fresh worker for an isolated retry); null: the whole suite. */
  collect: CollectScope | null;
}

/** What is the same for every worker of one run. */
export interface RunIdentity {
  /** xdist's `testrun_uid` for this run. */
  testRunUid: string;
  /** The run's one random seed (pytest-randomly, pytest-random-order). */
  seed: number;
}

export function launchFor(framework: FrameworkAdapter, slot: WorkerIdentity, options: RunOptions, run: RunIdentity, memory: WorkerMemoryLimits): WorkerLaunch {
  return framework.launch({
    interpreter: options.python,
    frameworkArgs: options.pytestArgs,
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
    // The worker checks its own size after each test, before it starts the next (see run-memory.ts).
    // A test retried alone is the worker's only one: nothing to recycle it for.
    recycleBytes: slot.role === 'isolated' ? null : options.memory.recycleBytes,
    memory,
    collectOnly: slot.collect === null ? null : absoluteFiles(slot.collect),
  });
}

/**
 * The files as absolute paths: pytest reports a test's file relative to the rootdir (climbing out
 * of it with `..` for an installed package under --pyargs), so joined to the rootdir and normalized
 * it is the path pytest collects it from.
 */
export function absoluteFiles(scope: CollectScope): string[] {
  return [...new Set(scope.files.map((file) => resolve(scope.rootdir, file)))];
}

/** A worker's log of what it wrote outside pytest's capture, where artifacts are kept. */
export function workerLogPath(options: RunOptions, id: number): string | null {
  return options.artifactsDir ? join(options.artifactsDir, `worker-${id}.log`) : null;
}

/**
 * After how long with nothing but C running (no Python thread got the GIL) faulthandler's watchdog
 * dumps the stacks (python/bulkhead_pytest/stack_watch.py): twice within the heartbeat limit, so a
 * worker silent for that long always has a dump of its silence; at most 10 s, at least half a second.
 */
export function stackDumpPeriod(heartbeatTimeoutSeconds: number): number {
  return Math.max(0.5, Math.min(heartbeatTimeoutSeconds / 2, 10));
}
