/**
 * Combined coverage (pytest-cov's `--cov`): what the first worker reports of pytest-cov's
 * options, and what the end-of-run combine step printed and decided
 * (python/bulkhead_pytest/coverage_combine.py).
 */

/** pytest-cov's options as the worker's pytest parsed them; only the Python side reads them. */
export interface CoverageSession {
  options: Record<string, unknown>;
  /** Where pytest-cov would have combined and reported (its `topdir`: the worker's cwd). */
  topdir: string;
}

/** One write of pytest-cov's terminal summary, with its markup (e.g. red and bold for FAIL). */
export interface CoverageWrite {
  text: string;
  markup: Record<string, boolean>;
}

export type CoverageOutcome =
  /** Combined and, unless `--no-cov-on-fail` said not to, reported. */
  | { kind: 'reported'; writes: CoverageWrite[]; total: number | null; failedUnder: boolean }
  /** The combine step itself failed (no pytest-cov in that interpreter, a broken data file): why. */
  | { kind: 'failed'; detail: string };
