import type { ExitCause } from './cause.js';
import { describeCause } from './cause.js';
import { formatBytes } from './format-bytes.js';

/** One attempt at a test that ended with its worker's death. */
export interface CrashReport {
  worker: number;
  pid: number | null;
  cause: ExitCause;
  /** The last lines the worker wrote to stderr. */
  stderrTail: string;
  /** Python stacks of all threads (faulthandler), dumped at the crash or before the kill. */
  stacks: string;
  /**
   * The tests running in other workers when it died (or that died with it, moments before), with
   * their memory then: under parallel load, they are half of the story. Absent: none recorded.
   */
  beside?: BesideTest[];
}

/** A test that ran in another worker when a worker died. */
export interface BesideTest {
  worker: number;
  testId: string;
  /** Its worker's memory then (its peak so far, baseline included), where measured. */
  memoryBytes: number | null;
}

/**
 * Why a test that passed in the end is flaky. `load`: it crashed, ran out of memory or timed out
 * only under parallel load, and passed when run alone. (A later kind: failed, then passed on a rerun.)
 */
export type FlakyKind = 'load';

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
  /**
   * Passed in the end, after a first attempt that did not (`crash`: the attempt under parallel
   * load). Counted as passed unless --fail-on-flaky.
   */
  | { kind: 'flaky'; flaky: FlakyKind; crash: CrashReport }
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
      return `crashes on its own: run alone in a fresh worker, it ${retry.attempt.cause.kind === 'finished' ? 'ended' : describeCause(retry.attempt.cause)} again`;
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

/** "beside it: worker 2 running tests/test_b.py::test_big (15.8 GiB)", or '' when nothing ran beside it. */
export function describeBeside(crash: CrashReport): string {
  const beside = crash.beside ?? [];
  if (beside.length === 0) return '';
  const each = beside.map((test) => `worker ${test.worker} running ${test.testId}${test.memoryBytes !== null ? ` (${formatBytes(test.memoryBytes)})` : ''}`);
  return `beside it: ${each.join('; ')}`;
}

/** The whole story of a crash in one line: its cause and numbers, then what ran beside it. */
export function describeCrashFully(testId: string, crash: CrashReport): string {
  const beside = describeBeside(crash);
  return beside ? `${describeCrash(testId, crash)}; ${beside}` : describeCrash(testId, crash);
}

/** The JUnit/JSON name of a cause: `crashed` for signals and exit codes, else the cause itself. */
export function crashType(crash: CrashReport): string {
  return crash.cause.kind === 'signal' || crash.cause.kind === 'exit_code' ? 'crashed' : crash.cause.kind;
}
