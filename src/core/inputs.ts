/**
 * Everything the run core hears, as one closed union: the shell (src/runner/run-shell.ts) turns
 * each source — a worker's channel line, a worker's exit with the facts read off it, a tick of the
 * clock with the readings taken on it, a timer, a signal, the answer to a question the core asked —
 * into one of these and puts it on one queue. Each carries the time it was taken (`now`, monotonic
 * milliseconds), so the core never reads a clock.
 */
import type { AnyWorkerMessage } from '../adapters/messages.js';
import type { CoverageOutcome } from '../model/coverage.js';
import type { WorkerId } from '../model/test.js';
import type { ExitFacts, MemoryReading, WorkerSample } from '../model/worker-facts.js';

export type { ExitFacts, MemoryReading, WorkerSample };
import type { SuitePlan } from './suite-plan.js';

export type RunInput = (
  | { type: 'begin' }
  /** The runtime started the process the core asked for (`pid` null: it could not be started; its exit follows). */
  | { type: 'spawned'; worker: WorkerId; pid: number | null }
  /** One decoded, validated message from a worker's channel. `residentBytes`: measured on `collected`. */
  | { type: 'message'; worker: WorkerId; message: AnyWorkerMessage; residentBytes?: number }
  /** A line that is not a valid message, or a channel that overflowed: the worker broke the protocol. */
  | { type: 'bad_line'; worker: WorkerId; detail: string }
  | { type: 'exited'; worker: WorkerId; exit: ExitFacts }
  /** The answer to `plan_suite`: each test's settings and expected needs. */
  | { type: 'suite_planned'; plan: SuitePlan }
  | { type: 'tick'; samples: readonly WorkerSample[]; memory: MemoryReading | null }
  /**
   * The answer to `read_stacks`: where a busy worker's test is now (the innermost frame of its main
   * thread in the newest watchdog dump), and the file that dump is kept fresh in; null without one.
   */
  | { type: 'stacks_read'; worker: WorkerId; where: string | null; stacksFile: string | null; slow: SlowPending }
  | { type: 'timer'; key: string }
  /** The runtime's safety net for bulkhead's own death (the reaper) could not start, or died. */
  | { type: 'lifeline_lost'; detail: string }
  /** Ctrl-C or SIGTERM: `interrupt` the first time (finish gracefully), `kill` the second. */
  | { type: 'signal'; kind: 'interrupt' | 'kill'; detail: string }
  /** The answer to `wrap_up`: the combined coverage, if it was asked for, and the run's memory peak. */
  | { type: 'wrapped_up'; coverage: CoverageOutcome | null; runPeakBytes: number | null }
) & { now: number };

/** A SLOW notice decided on a tick, waiting for the stacks dump that says where the test is. */
export interface SlowPending {
  testId: string;
  silentSeconds: number;
  cpuPercent: number | null;
}

/** An input before the shell stamps its time: what a source puts on the queue. */
export type UntimedInput = RunInput extends infer T ? (T extends RunInput ? Omit<T, 'now'> : never) : never;
