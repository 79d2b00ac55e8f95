/**
 * What only pytest says: the pytest adapter's own payload on the neutral reports and session
 * (report.ts, event.ts), rendered in the worker by pytest's own code. Only the renderers of
 * pytest's formats read it: the pytest-style terminal reporter and the JUnit reporter (the JSON
 * reporter copies the plain longrepr through). The run core, the scheduler, the result book and
 * the history store never look inside, so another framework's adapter needs none of it.
 */
import type { JunitCollectCase, JunitFragment, JunitSession } from './junit.js';

/** One phase report as pytest rendered it. */
export interface PytestPhase {
  /** pytest's teststatus: category (`passed`, `failed`, `error`, `xfailed`, ... or '' when not counted), letter and word. */
  category: string;
  letter: string;
  word: string;
  /** Plain-text longrepr (pytest's `str(report.longrepr)`), '' when none. */
  longrepr: string;
  /** The same rendered with terminal colours where the worker was told to use them. */
  longreprTerminal: string;
  /** The one-line crash message (`reprcrash.message`), when there is one. */
  crashMessage: string | null;
  /** For a skip: pytest's (path, line, reason) triple, and where the short summary folds it. */
  skip: SkipInfo | null;
  /** The head line pytest prints over a failure (`TestClass.test_name`). */
  headLine: string;
  /** pytest's "short test summary info" line for this report (failures, errors, -rp passes), rendered. */
  summaryLine: string;
  /** pytest's `report.location`: file, 0-based line, domain. */
  location: { file: string; line: number | null; domain: string };
  /** The test's JUnit testcases so far, rendered by pytest's junitxml; null when no JUnit report is wanted. */
  junit: JunitFragment | null;
}

export interface SkipInfo {
  path: string;
  line: number | null;
  /** pytest's raw reason (`Skipped: why` for `pytest.skip("why")`). */
  reason: string;
  /** Where pytest's short summary folds it: path relative to the invocation dir; line null for marker skips. */
  foldPath: string;
  foldLine: number | null;
}

/** A collection error as pytest rendered it. */
export interface PytestCollectError {
  summaryLine: string;
  longrepr: string;
  longreprTerminal: string;
  crashMessage: string | null;
  junit: JunitCollectCase | null;
}

/** A module skipped while collecting, as pytest rendered it. */
export interface PytestCollectSkip {
  longrepr: string;
  skip: SkipInfo;
  junit: JunitCollectCase | null;
}

/** The pytest session's settings that decide how its output looks. */
export interface PytestSession {
  /** pytest's own header lines (platform, rootdir, plugins, plugin headers), rendered. */
  headerLines: string[];
  verbosity: number;
  color: boolean;
  /** pytest's -r characters, already expanded (e.g. "fE"). */
  reportChars: string;
  /** `--durations` (null when not asked for) and `--durations-min` (null: pytest's default). */
  durations: number | null;
  durationsMin: number | null;
  /** `--tb` and `--show-capture`. */
  tbStyle: string;
  showCapture: string;
  /** `-n`/`--numprocesses` seen in the pytest arguments or ini (pytest-xdist), which bulkhead replaces. */
  xdistRequested: string | null;
  /** Set when a JUnit report is wanted (bulkhead's --junit, or pytest's --junitxml): its settings as pytest resolved them. */
  junit: JunitSession | null;
}
