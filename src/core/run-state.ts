/**
 * The owners of a run's facts, held together for the core's handlers. Each fact has one owner:
 * the scheduler (queued, held and running tests), the worker table (processes, their lifecycles,
 * restarts, xdist ids), the ledger (attempts, blame, retries, final outcomes), the lock service,
 * the collection (the suite and its session), the end (why the run stops, the exit code). The
 * handlers in this folder read and change them only through their methods.
 */
import type { TestSettings } from '../model/settings.js';
import type { TestInfo } from '../model/test.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { SchedulerInput, TestDemand } from '../scheduler/types.js';
import type { BesideLog } from './beside.js';
import type { Collection } from './collection.js';
import type { Ledger } from './ledger.js';
import type { LockService } from './lock-service.js';
import type { RunOptions } from './options.js';
import type { EndProposal, RunEnd } from './run-end.js';
import type { Step } from './step.js';
import type { WorkerTable } from './workers.js';

export interface RunState {
  readonly options: RunOptions;
  readonly scheduler: Scheduler;
  readonly workers: WorkerTable;
  readonly ledger: Ledger;
  readonly locks: LockService;
  readonly collection: Collection;
  readonly beside: BesideLog;
  readonly end: RunEnd;
  /** Scheduler inputs decided while handling one input, fed to it in order afterwards (no re-entry). */
  readonly inbox: SchedulerInput[];
  /** Workers already told to go for their size (recycling is announced once). */
  readonly recycled: Set<number>;
  suite: SuiteFacts;
  /** The time of the input being handled. */
  now: number;
}

/** The collected suite, each test's settings and what admission expects it to need. */
export interface SuiteFacts {
  tests: TestInfo[];
  /** Null: no resolver (every test has the defaults). */
  settings: TestSettings[] | null;
  demands: readonly TestDemand[];
}

export function testId(state: RunState, index: number): string {
  return state.suite.tests[index]?.id ?? `#${index}`;
}

/**
 * A reason to stop the run. The first stops scheduling (running tests finish, nothing new starts)
 * and ends the workers that have no test to finish; later ones may only say more (see RunEnd).
 */
export function stopRun(state: RunState, proposal: EndProposal, out: Step): void {
  if (!state.end.propose(proposal)) return;
  state.inbox.push({ type: 'stop' });
  state.workers.stopIdle(`run stopped: ${proposal.reason.kind}`, state.collection.endedByPytest, out);
}
