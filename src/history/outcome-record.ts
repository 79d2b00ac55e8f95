/**
 * What one `test_finished` event leaves in the store: its outcome key, and the duration and
 * memory peak it measured, if it measured any.
 */
import type { RunEventBody } from '../model/event.js';
import { assertNever } from '../model/assert-never.js';
import type { FinalOutcome } from '../model/outcome.js';
import type { TestRecord } from './types.js';

type TestFinished = Extract<RunEventBody, { type: 'test_finished' }>;

export function testRecord(event: TestFinished): TestRecord {
  return {
    testId: event.testId,
    outcome: outcomeKey(event.outcome),
    durationSeconds: measuredDuration(event.outcome, event.duration),
    peakBytes: measuredPeak(event),
    baselineBytes: event.memory?.baselineBytes ?? null,
  };
}

/** `passed`, `skipped`, ...; a crash keeps its cause: `crashed:signal`, `crashed:oom`. */
export function outcomeKey(outcome: FinalOutcome): string {
  return outcome.kind === 'crashed' ? `crashed:${outcome.crash.cause.kind}` : outcome.kind;
}

/**
 * The duration only where it measures the test: a test that crashed, was interrupted or never
 * ran is reported with 0, which would teach the scheduler that it is quick. A test killed at its
 * timeout did hold its worker for the whole limit, and will again: that is what is kept.
 */
export function measuredDuration(outcome: FinalOutcome, duration: number): number | null {
  switch (outcome.kind) {
    case 'passed':
    case 'failed':
    case 'error':
    case 'skipped':
    case 'xfailed':
    case 'xpassed':
    case 'flaky': // what it took when it passed alone
      return duration;
    case 'crashed':
      return outcome.crash.cause.kind === 'timeout' ? outcome.crash.cause.limitSeconds : null;
    case 'interrupted':
    case 'not_run':
      return null;
    default:
      return assertNever(outcome);
  }
}

/**
 * The peak above the baseline where it was measured. A test killed for memory has no such
 * measurement, yet it is the one the scheduler most needs to know about: it keeps the cause's
 * peak (or, failing that, the cap it hit). Those count the worker's baseline too, so they
 * overstate the test's own need, which is the safe side for admission.
 */
export function measuredPeak(event: TestFinished): number | null {
  if (event.memory !== null) return event.memory.peakBytes;
  const outcome = event.outcome;
  if (outcome.kind !== 'crashed' && outcome.kind !== 'flaky') return null;
  const cause = outcome.crash.cause;
  return cause.kind === 'oom' ? (cause.peakBytes ?? cause.limitBytes) : null;
}
