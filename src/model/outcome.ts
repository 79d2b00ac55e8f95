import type { ExitCause } from './cause.js';
import { describeCause } from './cause.js';

/** One attempt at a test that ended with its worker's death. */
export interface CrashReport {
  worker: number;
  pid: number | null;
  cause: ExitCause;
  /** The last lines the worker wrote to stderr. */
  stderrTail: string;
  /** Python stacks of all threads (faulthandler), dumped at the crash or before the kill. */
  stacks: string;
}

/** What running a crashed test again, alone in a fresh worker, showed. */
export type IsolatedRetry =
  | { verdict: 'crashes_alone'; attempt: CrashReport }
  | { verdict: 'passed_alone' }
  | { verdict: 'failed_alone'; outcome: 'failed' | 'error' }
  | { verdict: 'not_run'; reason: string };

/**
 * The one final outcome of a test. Every collected (and not deselected) test ends with exactly
 * one of these, so the counts of a run always add up.
 */
export type FinalOutcome =
  | { kind: 'passed' }
  | { kind: 'failed' }
  | { kind: 'error' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'xfailed'; reason: string }
  | { kind: 'xpassed' }
  | { kind: 'crashed'; crash: CrashReport; retry: IsolatedRetry | null }
  /** Crashed under parallel load, passed alone, and the run counts such tests as flaky passes. */
  | { kind: 'flaky'; crash: CrashReport }
  | { kind: 'interrupted'; detail: string }
  | { kind: 'not_run'; reason: string };

export type OutcomeKind = FinalOutcome['kind'];

export const OUTCOME_KINDS: readonly OutcomeKind[] = [
  'passed',
  'failed',
  'error',
  'skipped',
  'xfailed',
  'xpassed',
  'crashed',
  'flaky',
  'interrupted',
  'not_run',
];

export function describeRetry(retry: IsolatedRetry): string {
  switch (retry.verdict) {
    case 'crashes_alone':
      return 'crashes on its own: it crashed again when run alone in a fresh worker';
    case 'passed_alone':
      return 'passed alone: crashed only under parallel load';
    case 'failed_alone':
      return `${retry.outcome === 'failed' ? 'failed' : 'errored'} alone, without crashing its worker`;
    case 'not_run':
      return `not retried (${retry.reason})`;
  }
}

/** "worker 3 (pid 4121) was killed by SIGSEGV while running tests/test_x.py::test_y" */
export function describeCrash(testId: string, crash: CrashReport): string {
  const pid = crash.pid === null ? '' : ` (pid ${crash.pid})`;
  return `worker ${crash.worker}${pid} ${describeCause(crash.cause)} while running ${testId}`;
}

/** The JUnit/JSON name of a cause: `crashed` for signals and exit codes, else the cause itself. */
export function crashType(crash: CrashReport): string {
  return crash.cause.kind === 'signal' || crash.cause.kind === 'exit_code' ? 'crashed' : crash.cause.kind;
}
