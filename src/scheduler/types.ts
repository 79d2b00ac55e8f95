import type { TestInfo, WorkerId } from '../model/test.js';

/** Facts the run loop feeds into the scheduler, one at a time. Tests are named by index. */
export type SchedulerInput =
  | { type: 'collected'; tests: readonly TestInfo[] }
  /** A worker collected and is ready; `isolatedFor` marks the fresh worker started for a retry. */
  | { type: 'worker_ready'; worker: WorkerId; isolatedFor?: number }
  | { type: 'test_started'; worker: WorkerId; index: number }
  | { type: 'test_finished'; worker: WorkerId; index: number }
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
}
