/**
 * How a run ended, in words for the tests it never ran, and as the process exit code.
 */
import { assertNever } from '../model/assert-never.js';
import type { RunEndReason } from '../model/event.js';
import { ExitCode } from '../model/exit-code.js';

/** pytest's exit codes: a deliberate end (interrupt, usage error) wins over failed tests. */
export function runExitCode(end: { exitCode: number } | null, internalError: boolean, failures: number): number {
  if (end !== null && end.exitCode !== ExitCode.TESTS_FAILED) return end.exitCode;
  if (internalError) return ExitCode.INTERNAL_ERROR;
  if (failures > 0) return ExitCode.TESTS_FAILED;
  return ExitCode.OK;
}

export function describeEnd(reason: RunEndReason): string {
  switch (reason.kind) {
    case 'completed':
      return 'completed';
    case 'maxfail':
      return `stopping after ${reason.failures} failures`;
    case 'collection_errors':
      return `Interrupted: ${reason.errors} error${reason.errors === 1 ? '' : 's'} during collection`;
    case 'no_tests':
      return 'no tests collected';
    case 'interrupted':
      return reason.detail;
    case 'aborted':
      return `run aborted: ${reason.detail.split('\n')[0]}`;
    default:
      return assertNever(reason);
  }
}
