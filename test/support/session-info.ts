/** A SessionInfo as a pytest 9 worker reports it for a plain run (no options), and phase reports, for unit tests. */
import type { SessionInfo } from '../../src/model/event.js';
import type { PytestPhase, PytestSession } from '../../src/model/pytest.js';
import type { Phase, PhaseReport } from '../../src/model/report.js';

export function sampleSessionInfo(over: Partial<SessionInfo> = {}, pytest: Partial<PytestSession> = {}): SessionInfo {
  return {
    rootdir: '/p',
    maxfail: 0,
    continueOnCollectionErrors: false,
    frameworkTimeout: null,
    notices: [],
    pythonVersion: '3.11.7',
    pytestVersion: '9.0.3',
    ...over,
    pytest: {
      headerLines: [],
      verbosity: 0,
      color: false,
      reportChars: 'fE',
      durations: null,
      durationsMin: null,
      tbStyle: 'auto',
      showCapture: 'all',
      xdistRequested: null,
      junit: null,
      ...pytest,
    },
  };
}

/** A phase report with nothing to show (no longrepr, no sections), its pytest status from its outcome. */
export function samplePhaseReport(
  testId: string,
  when: Phase,
  outcome: PhaseReport['outcome'],
  extra: Partial<Omit<PhaseReport, 'pytest'>> = {},
  pytest: Partial<PytestPhase> = {},
): PhaseReport {
  return {
    testId,
    when,
    outcome,
    duration: 0,
    xfailReason: null,
    skipReason: null,
    sections: [],
    userProperties: [],
    ...extra,
    pytest: {
      category: outcome,
      letter: '.',
      word: outcome.toUpperCase(),
      longrepr: '',
      longreprTerminal: '',
      crashMessage: null,
      skip: null,
      headLine: testId,
      summaryLine: '',
      location: { file: testId.split('::')[0]!, line: 0, domain: testId },
      junit: null,
      ...pytest,
    },
  };
}
