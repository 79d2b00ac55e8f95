import type { FinalOutcome } from '../model/outcome.js';
import type { PhaseReport, PlainPhase } from '../model/report.js';

/**
 * The one final outcome of a test from its phase reports, as pytest would judge it: a failed call
 * is a failure; a failed setup or teardown is an error; a skip (or an xfail) is a skip. Plain
 * phases passed, with no xfail: they only make a test that has a call a pass.
 */
export function outcomeFromReports(reports: readonly PhaseReport[], plain: readonly PlainPhase[] = []): FinalOutcome {
  const call = reports.find((report) => report.when === 'call');
  if (call?.outcome === 'failed') return { kind: 'failed' };
  if (reports.some((report) => report.outcome === 'failed')) return { kind: 'error' };
  const skipped = reports.find((report) => report.outcome === 'skipped');
  if (skipped) {
    if (skipped.xfailReason !== null) return { kind: 'xfailed', reason: skipped.xfailReason };
    return { kind: 'skipped', reason: skipped.skipReason ?? '' };
  }
  if (call?.xfailReason !== null && call?.xfailReason !== undefined) return { kind: 'xpassed' };
  if (call || plain.some(([when]) => when === 'call')) return { kind: 'passed' };
  return { kind: 'error' };
}

/** Does this report count towards pytest's failure count (and so towards --maxfail)? */
export function countsAsFailure(report: PhaseReport): boolean {
  return report.outcome === 'failed' && report.xfailReason === null;
}
