import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeAfterCoverage } from '../../src/core/run-end.js';
import type { CoverageOutcome } from '../../src/model/coverage.js';
import { ExitCode } from '../../src/model/exit-code.js';

const reported = (failedUnder: boolean): CoverageOutcome => ({ kind: 'reported', writes: [], total: 71.88, failedUnder });
const failed: CoverageOutcome = { kind: 'failed', detail: 'no pytest_cov' };

test('--cov-fail-under fails a run that passed or collected nothing, as pytest-cov counts a failed test', () => {
  const rows: Array<[number, CoverageOutcome, number]> = [
    [ExitCode.OK, reported(false), ExitCode.OK],
    [ExitCode.OK, reported(true), ExitCode.TESTS_FAILED],
    [ExitCode.NO_TESTS_COLLECTED, reported(true), ExitCode.TESTS_FAILED],
    [ExitCode.NO_TESTS_COLLECTED, reported(false), ExitCode.NO_TESTS_COLLECTED],
    [ExitCode.TESTS_FAILED, reported(true), ExitCode.TESTS_FAILED],
    [ExitCode.INTERRUPTED, reported(true), ExitCode.INTERRUPTED],
    // The combine step failing is pytest's INTERNALERROR: the gate is never passed unchecked.
    [ExitCode.OK, failed, ExitCode.INTERNAL_ERROR],
    [ExitCode.TESTS_FAILED, failed, ExitCode.TESTS_FAILED],
  ];
  for (const [before, outcome, after] of rows) assert.equal(exitCodeAfterCoverage(before, outcome), after, `${before} + ${JSON.stringify(outcome)}`);
});
