import type { PytestCollectError, PytestCollectSkip, PytestPhase } from './pytest.js';

/**
 * One phase report (setup, call or teardown), framework-neutral: what the run core, the result
 * book and the history read. How the framework rendered it (its traceback text, its status
 * letters, its JUnit) travels as its adapter's payload (`pytest`, src/model/pytest.ts), read only
 * by the renderers of that framework's formats.
 */
export type Phase = 'setup' | 'call' | 'teardown';

/**
 * A phase that passed with nothing to show (no text, no output, no properties, the framework's
 * default status): only its duration travels. Its full report would cost more than a tiny test.
 */
export type PlainPhase = [when: Phase, duration: number];

export interface PhaseReport {
  testId: string;
  when: Phase;
  outcome: 'passed' | 'failed' | 'skipped';
  duration: number;
  /** Why the test was expected to fail ('' when no reason was given); null when it was not (pytest's `wasxfail`). */
  xfailReason: string | null;
  /** Why the phase was skipped, as the user gave it (pytest's "Skipped: " prefix removed); null when it was not skipped. */
  skipReason: string | null;
  /** Captured output sections: [title, content]. Sent for failures (and for passes only when asked). */
  sections: Array<[string, string]>;
  /** Properties the test recorded (pytest's `record_property`): [name, value]. */
  userProperties: Array<[string, string]>;
  /** pytest's rendering of this report. */
  pytest: PytestPhase;
}

/** A module skipped while collecting (`pytest.skip(allow_module_level=True)`, `importorskip`). */
export interface CollectSkipReport {
  nodeid: string;
  /** Why, as the user gave it (as `skipReason` above). */
  reason: string;
  pytest: PytestCollectSkip;
}

/** A collection error: a module that failed to import, a conftest that raised. */
export interface CollectErrorReport {
  nodeid: string;
  pytest: PytestCollectError;
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
