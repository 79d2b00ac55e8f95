/** A SessionInfo as a pytest 9 worker reports it for a plain run (no options), for unit tests. */
import type { SessionInfo } from '../../src/model/event.js';

export function sampleSessionInfo(over: Partial<SessionInfo> = {}): SessionInfo {
  return {
    rootdir: '/p',
    headerLines: [],
    verbosity: 0,
    color: false,
    reportChars: 'fE',
    durations: null,
    durationsMin: null,
    tbStyle: 'auto',
    showCapture: 'all',
    maxfail: 0,
    continueOnCollectionErrors: false,
    xdistRequested: null,
    iniTimeout: null,
    pythonVersion: '3.11.7',
    pytestVersion: '9.0.3',
    ...over,
  };
}
