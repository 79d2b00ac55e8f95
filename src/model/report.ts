import type { JunitCollectCase, JunitFragment } from './junit.js';

/**
 * One phase report (setup, call or teardown) as the framework rendered it. The worker renders
 * text with the framework's own code, so the supervisor never re-implements a traceback format.
 */
export type Phase = 'setup' | 'call' | 'teardown';

export interface PhaseReport {
  testId: string;
  when: Phase;
  outcome: 'passed' | 'failed' | 'skipped';
  /** The framework's own status for this report: category (`passed`, `failed`, `error`, `xfailed`, ... or '' when not counted), letter and word. */
  category: string;
  letter: string;
  word: string;
  duration: number;
  /** Plain-text longrepr (pytest's `str(report.longrepr)`), '' when none. */
  longrepr: string;
  /** The same rendered with terminal colours where the worker was told to use them. */
  longreprTerminal: string;
  /** The one-line crash message (`reprcrash.message`), when there is one. */
  crashMessage: string | null;
  /** For a skip: pytest's (path, line, reason) triple as JUnit shows it. */
  skip: SkipInfo | null;
  /** xfail reason when the test was marked xfail (pytest's `wasxfail`). */
  wasxfail: string | null;
  /** The head line pytest prints over a failure (`TestClass.test_name`). */
  headLine: string;
  /** Captured output sections: [title, content]. Sent for failures (and for passes only when asked). */
  sections: Array<[string, string]>;
  userProperties: Array<[string, string]>;
  /** pytest's "short test summary info" line for this report (failures, errors, -rp passes), rendered. */
  summaryLine: string;
  /** 0-based line of the test for reports: pytest's `location`. */
  location: { file: string; line: number | null; domain: string };
  /** The test's JUnit testcases so far, rendered by pytest's junitxml; absent when no JUnit report is wanted. */
  junit?: JunitFragment | null;
}

export interface SkipInfo {
  path: string;
  line: number | null;
  reason: string;
  /** Where pytest's short summary folds it: path relative to the invocation dir; line null for marker skips. */
  foldPath: string;
  foldLine: number | null;
}

/** A module skipped while collecting (`pytest.skip(allow_module_level=True)`, `importorskip`). */
export interface CollectSkipReport {
  nodeid: string;
  longrepr: string;
  skip: SkipInfo;
  junit?: JunitCollectCase | null;
}

/** A collection error: a module that failed to import, a conftest that raised. */
export interface CollectErrorReport {
  nodeid: string;
  summaryLine: string;
  longrepr: string;
  longreprTerminal: string;
  crashMessage: string | null;
  junit?: JunitCollectCase | null;
}

export interface WarningRecord {
  /** pytest's formatted warning (file:line: Category: message + source line). */
  message: string;
  /** Where pytest's summary lists it: the test's node id, or file:line outside a test. */
  location: string;
  category: string;
  filename: string;
  lineno: number;
  nodeid: string;
  when: string;
}
