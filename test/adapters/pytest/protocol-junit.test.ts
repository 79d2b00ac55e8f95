/**
 * The protocol's JUnit fields (python/bulkhead_pytest/junit.py sends them; src/model/junit.ts):
 * what decodes, and that a worker which sends none still decodes (no JUnit report wanted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWorkerLine } from '../../../src/adapters/pytest/decode.js';

/** A session message as a pytest 7 worker sends it for a plain run. */
const SESSION = {
  type: 'session',
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
  pythonVersion: '3.11.2',
  pytestVersion: '7.2.1',
};

const REPORT = {
  testId: 't.py::test_a',
  when: 'call',
  outcome: 'passed',
  category: 'passed',
  letter: '.',
  word: 'PASSED',
  duration: 0.001,
  longrepr: '',
  longreprTerminal: '',
  crashMessage: null,
  skip: null,
  wasxfail: null,
  headLine: 'test_a',
  sections: [],
  userProperties: [],
  summaryLine: '',
  location: { file: 't.py', line: 0, domain: 'test_a' },
};

const FRAGMENT = {
  cases: [],
  open: { attrs: [['classname', 't'], ['name', 'test_a']], time: 0.001, children: '' },
  stats: { passed: 1, failure: 0, error: 0, skipped: 0 },
  doubleFail: 0,
  suiteProperties: [['ARCH', 'x86_64']],
};

test("a report carries the test's JUnit rendering, or null", () => {
  const withJunit = decodeWorkerLine(JSON.stringify({ type: 'report', report: { ...REPORT, junit: FRAGMENT } }));
  assert.ok(withJunit.ok && withJunit.message.type === 'report', JSON.stringify(withJunit));
  assert.deepEqual(withJunit.message.report.pytest.junit, FRAGMENT);
  const without = decodeWorkerLine(JSON.stringify({ type: 'report', report: REPORT }));
  assert.ok(without.ok && without.message.type === 'report');
  assert.equal(without.message.report.pytest.junit, null);
  const broken = decodeWorkerLine(JSON.stringify({ type: 'report', report: { ...REPORT, junit: { ...FRAGMENT, open: { attrs: [['a']] } } } }));
  assert.equal(broken.ok, false);
});

test('collection reports carry their testcase and its place; the session its JUnit settings', () => {
  const skip = { nodeid: 'u.py', longrepr: "('u.py', 1, 'Skipped: x')", skip: { path: 'u.py', line: 1, reason: 'x', foldPath: 'u.py', foldLine: 1 } };
  const decoded = decodeWorkerLine(JSON.stringify({ type: 'collect_skip', report: { ...skip, junit: { xml: '<testcase />', order: 1 } } }));
  assert.ok(decoded.ok && decoded.message.type === 'collect_skip');
  assert.deepEqual(decoded.message.report.pytest.junit, { xml: '<testcase />', order: 1 });
  const session = SESSION;
  const junit = {
    xmlpath: '/p/report.xml',
    prefix: null,
    family: 'xunit1',
    envelope: { declaration: '<?xml version="1.0" encoding="utf-8"?>', testsuites: [], testsuite: [['name', 'pytest']] },
  };
  const withJunit = decodeWorkerLine(JSON.stringify({ ...session, junit }));
  assert.ok(withJunit.ok && withJunit.message.type === 'session');
  assert.deepEqual(withJunit.message.info.pytest.junit, junit);
  const without = decodeWorkerLine(JSON.stringify(session));
  assert.ok(without.ok && without.message.type === 'session');
  assert.equal(without.message.info.pytest.junit, null);
});
