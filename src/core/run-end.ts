/**
 * How a run ended, decided in one place: the reasons proposed during the run, ordered by how much
 * they say (a completed run < no tests < maxfail < collection errors < an interrupt < an abort),
 * the exit code derived from the one that stands, and the words for the tests it never ran.
 */
import { assertNever } from '../model/assert-never.js';
import type { RunEndReason } from '../model/event.js';
import { ExitCode } from '../model/exit-code.js';
import type { CoverageOutcome } from '../model/coverage.js';

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

const RANK: Readonly<Record<RunEndReason['kind'], number>> = {
  completed: 0,
  no_tests: 1,
  maxfail: 2,
  collection_errors: 3,
  interrupted: 4,
  aborted: 5,
};

/** Why the run stops, with the exit code that reason carries (pytest's own, for a session it ended). */
export interface EndProposal {
  reason: RunEndReason;
  exitCode: number;
}

export class RunEnd {
  private standing: EndProposal | null = null;

  /**
   * A reason to stop. The first one stops the run; a later one replaces it only when it says more
   * (an interrupt during a maxfail stop is an interrupt). Returns whether this was the first.
   */
  propose(proposal: EndProposal): boolean {
    const first = this.standing === null;
    if (first || RANK[proposal.reason.kind] > RANK[this.standing!.reason.kind]) this.standing = proposal;
    return first;
  }

  /**
   * pytest's own words for a session it ended (its stderr, read once its worker exited) replace the
   * standing reason's, keeping its exit code (pytest's own).
   */
  replaceDetail(detail: string): void {
    if (this.standing !== null) this.standing = { ...this.standing, reason: { kind: 'aborted', detail } };
  }

  get stopped(): boolean {
    return this.standing !== null;
  }

  get reason(): RunEndReason | null {
    return this.standing?.reason ?? null;
  }

  /** The exit code of the run: the standing reason's, else the failures', after coverage's verdict. */
  exitCode(internalError: boolean, failures: number, coverage: CoverageOutcome | null): number {
    const code = runExitCode(this.standing, internalError, failures);
    return coverage === null ? code : exitCodeAfterCoverage(code, coverage);
  }
}

/**
 * pytest-cov's verdict on top of the tests': a failed `--cov-fail-under` turns a green run red, and
 * a coverage step that could not run is an internal error.
 */
export function exitCodeAfterCoverage(exitCode: number, outcome: CoverageOutcome): number {
  if (exitCode !== ExitCode.OK && exitCode !== ExitCode.NO_TESTS_COLLECTED) return exitCode;
  if (outcome.kind === 'failed') return ExitCode.INTERNAL_ERROR;
  return outcome.failedUnder ? ExitCode.TESTS_FAILED : exitCode;
}
