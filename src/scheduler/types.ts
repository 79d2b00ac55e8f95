import type { TestInfo, WorkerId } from '../model/test.js';

/** Facts the run loop feeds into the scheduler, one at a time. Tests are named by index. */
export type SchedulerInput =
  /** The suite, and what each test needs (index-aligned; absent: one CPU slot and nothing else). */
  | { type: 'collected'; tests: readonly TestInfo[]; demands?: readonly TestDemand[] }
  /**
   * A worker collected and is ready; `isolatedFor` marks the fresh worker started for a retry.
   * `baselineBytes`: its resident memory now, idle.
   */
  | { type: 'worker_ready'; worker: WorkerId; isolatedFor?: number; baselineBytes?: number }
  | { type: 'test_started'; worker: WorkerId; index: number }
  /**
   * `peakBytes`: the test's measured peak above the worker's baseline; `residentBytes`: the
   * worker's idle memory after it (its new baseline). Either may be unknown.
   */
  | { type: 'test_finished'; worker: WorkerId; index: number; peakBytes?: number | null; residentBytes?: number | null }
  /** Memory is short on the machine (the pressure guard): admit nothing new until it clears. */
  | { type: 'pressure'; hold: boolean }
  /** Replace this worker between tests (its idle memory grew too much): like `stop` for one worker. */
  | { type: 'recycle'; worker: WorkerId }
  /** The worker gave these back (its answer to a steal or stop): they had not started. */
  | { type: 'returned'; worker: WorkerId; indices: readonly number[] }
  /** The worker process is gone. Its running test (if any) is blamed, its unstarted tests go back. */
  | { type: 'worker_lost'; worker: WorkerId }
  /** Stop scheduling (maxfail, cancel, collection errors): running tests finish, nothing new starts. */
  | { type: 'stop' }
  /** Run this test again, alone in a fresh worker, once nothing else is running. */
  | { type: 'retry'; index: number };

/** What the scheduler decides; the run loop carries each out. */
export type SchedulerCommand =
  | { type: 'assign'; worker: WorkerId; indices: number[] }
  | { type: 'steal'; worker: WorkerId; indices: number[] }
  /** No more work for this worker: run what it holds, then end its session. */
  | { type: 'finish'; worker: WorkerId }
  /**
   * Run the one test you hold now, without a successor (pytest tears everything down after it),
   * then wait for more: no test that fits the budget can follow it yet.
   */
  | { type: 'flush'; worker: WorkerId }
  /** End after the running test; give back everything else. */
  | { type: 'stop'; worker: WorkerId }
  /** The test that was running when its worker was lost. */
  | { type: 'blame'; worker: WorkerId; index: number }
  /** Work remains and the pool is below its size: start a worker. */
  | { type: 'start_worker' }
  /** Nothing else runs: start a fresh worker for this test alone (an isolated retry). */
  | { type: 'start_isolated'; index: number };

export interface SchedulerOptions {
  /** How many workers the pool should have while work remains. */
  poolSize: number;
  /** What the tests running at once may use in all; default: unlimited memory, one slot per worker. */
  capacity?: Capacity;
}

/** What the tests running at the same time may use together. */
export interface Capacity {
  /** The run's memory budget, in bytes; null: memory is not a constraint. */
  memoryBytes: number | null;
  /** CPU slots (the pool size: each test takes one unless it asks for more). */
  cpus: number;
  /** Named tokens and how many holders each may have at once. */
  resources: Readonly<Record<string, number>>;
}

/** What one test needs while it runs. */
export interface TestDemand {
  /** Predicted (or declared) peak above the worker's baseline, in bytes. */
  memoryBytes: number;
  cpus: number;
  resources: Readonly<Record<string, number>>;
  /** Runs with nothing else running. */
  exclusive: boolean;
  /** Tests of one group go to one worker together and run one after another. */
  group: string | null;
  /** Tests that probably need alike (a parametrized function): one measurement informs the rest. */
  family: string;
  /** False for a guess (no declaration, no history): its family is probed one test at a time. */
  measured: boolean;
  /**
   * Predicted seconds (the history's median); absent or null: unknown. When any test has one, the
   * queue is ordered longest first (longest-first.ts); when none has, the order is collection's.
   */
  durationSeconds?: number | null;
}
