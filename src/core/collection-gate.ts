/**
 * What a worker's finished collection means for the run: the first one defines the suite; every
 * later one must match it exactly.
 */
import type { RunEndReason } from '../model/event.js';
import { ExitCode } from '../model/exit-code.js';
import type { TestInfo } from '../model/test.js';
import { describeCollectionDiff } from './collection-diff.js';

export type CollectionVerdict =
  | { kind: 'start'; tests: TestInfo[] }
  | { kind: 'join' }
  /** A worker that collected part of the suite lacks the test it is to run: collect the whole suite instead. */
  | { kind: 'collect_all' }
  | { kind: 'end'; reason: RunEndReason; exitCode: number; pytestEndedSession: boolean };

export interface CollectedFacts {
  tests: TestInfo[];
  errors: number;
  interrupted: string | null;
  exitstatus: number | null;
  continueOnCollectionErrors: boolean;
}

export function judgeCollection(
  facts: CollectedFacts,
  reference: { name: string; ids: readonly string[] } | null,
  workerName: string,
): CollectionVerdict {
  if (reference === null) {
    if (facts.exitstatus !== null && ![0, 1, 5].includes(facts.exitstatus)) {
      // pytest ended the session while collecting (a usage error such as a path that does not
      // exist, or an internal error): its exit code is the run's, its stderr the message.
      const detail = `pytest ended the session with exit code ${facts.exitstatus}`;
      return { kind: 'end', reason: { kind: 'aborted', detail }, exitCode: facts.exitstatus, pytestEndedSession: true };
    }
    if (facts.errors > 0 && facts.interrupted !== null) {
      // -x/--maxfail stopped pytest's collection at an error: pytest counts it as a failure.
      return { kind: 'end', reason: { kind: 'maxfail', failures: facts.errors }, exitCode: ExitCode.TESTS_FAILED, pytestEndedSession: false };
    }
    if (facts.errors > 0 && !facts.continueOnCollectionErrors) {
      return { kind: 'end', reason: { kind: 'collection_errors', errors: facts.errors }, exitCode: ExitCode.INTERRUPTED, pytestEndedSession: false };
    }
    if (facts.tests.length === 0) {
      return { kind: 'end', reason: { kind: 'no_tests' }, exitCode: ExitCode.NO_TESTS_COLLECTED, pytestEndedSession: false };
    }
    return { kind: 'start', tests: facts.tests };
  }
  const diff = describeCollectionDiff(reference.ids, facts.tests.map((test) => test.id), reference.name, workerName);
  if (diff !== null) {
    return { kind: 'end', reason: { kind: 'aborted', detail: diff }, exitCode: ExitCode.INTERRUPTED, pytestEndedSession: false };
  }
  return { kind: 'join' };
}
