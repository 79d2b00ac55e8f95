import type { ExitCause } from './cause.js';

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
  | { kind: 'crashed'; worker: number; pid: number | null; cause: ExitCause; stderrTail: string }
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
  'not_run',
];
