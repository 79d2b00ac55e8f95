/**
 * Everything the run core asks the shell to do, as one closed union. The shell carries each out in
 * order, on the WorkerRuntime (processes), on timers, or by answering with an input.
 */
import type { WorkerCommand } from '../adapters/messages.js';
import type { KillReason } from '../model/cause.js';
import type { CoverageSession } from '../model/coverage.js';
import type { LeakedProcess, TestInfo, WorkerId } from '../model/test.js';
import type { SlowPending } from './inputs.js';
import type { CollectScope } from './targeted-collection.js';
import type { WorkerRole } from './worker-record.js';

export type RunCommand =
  /**
   * Start a worker process. `lone`: it will run one test with nothing beside it (its cap is raised).
   * `collect`: the only files it collects (rootdir-relative); null: the whole suite.
   */
  | { type: 'start'; worker: WorkerId; role: WorkerRole; xdistIndex: number | null; lone: boolean; collect: CollectScope | null }
  | { type: 'send'; worker: WorkerId; command: WorkerCommand }
  /**
   * Kill a worker and its whole tree, in stages (SIGTERM, grace, SIGKILL) or at once (`hard`).
   * `dumpStacks`: ask faulthandler for the stacks first unless its watchdog already dumped them.
   */
  | { type: 'kill'; worker: WorkerId; reason: KillReason; dumpStacks: boolean; watchdogDump: boolean; hard: boolean }
  /** A worker exited: kill what its tests left running outside its process group and cgroup. */
  | { type: 'reap_leaked'; worker: WorkerId; leaked: LeakedProcess[] }
  /** Raise a worker's cap (and the run's limit) for a test alone, or put them back. */
  | { type: 'set_lone'; worker: WorkerId; lone: boolean; isolated: boolean }
  /** Read the newest stacks dump of a busy worker (answered by `stacks_read`). */
  | { type: 'read_stacks'; worker: WorkerId; slow: SlowPending }
  /** Enqueue `{ type: 'timer', key }` after `ms`. */
  | { type: 'timer'; key: string; ms: number }
  /** Resolve each test's settings and expected needs (answered by `suite_planned`). */
  | { type: 'plan_suite'; tests: TestInfo[] }
  /** Every worker has exited: combine coverage if asked, read the run's peak (answered by `wrapped_up`). */
  | { type: 'wrap_up'; coverage: CoverageSession | null; testsFailed: boolean }
  /** The run is over. */
  | { type: 'exit'; exitCode: number; abortDetail: string | null };
