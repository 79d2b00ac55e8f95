/**
 * The JUnit reporter's assembly: testcases rendered by pytest in the worker (fragments), put in
 * collection order, finished by the supervisor where a worker died, inside the suite pytest's
 * envelope describes. What pytest renders inside a testcase is checked against pytest itself in
 * test/parity/junit-options.test.ts and python/tests/test_junit.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent, RunEventBody, SessionInfo } from '../../src/model/event.js';
import type { JunitEnvelope, JunitFragment, JunitSession } from '../../src/model/junit.js';
import type { CrashReport, FinalOutcome } from '../../src/model/outcome.js';
import type { CollectErrorReport, Phase, PhaseReport } from '../../src/model/report.js';
import type { TestInfo } from '../../src/model/test.js';
import { JunitReporter } from '../../src/reporters/junit.js';
import { mergeSuiteProperties } from '../../src/reporters/junit-suite.js';
import { binXmlEscape, element, formatSeconds, isoTimestamp, mangleTestAddress, raw, serialize } from '../../src/reporters/junit-xml.js';
import { samplePhaseReport, sampleSessionInfo } from '../support/session-info.js';

const PYTEST_9: JunitEnvelope = {
  declaration: '<?xml version="1.0" encoding="utf-8"?>',
  testsuites: [['name', 'pytest tests']],
  testsuite: [
    ['name', 'nightly'],
    ['errors', '0'],
    ['failures', '0'],
    ['skipped', '0'],
    ['tests', '0'],
    ['time', '0.000'],
    ['timestamp', '2026-01-02T03:04:05.678901+00:00'],
    ['hostname', 'the-worker-host'],
  ],
};

const PYTEST_7: JunitEnvelope = {
  ...PYTEST_9,
  testsuites: [],
  testsuite: PYTEST_9.testsuite.map(([name, value]) => [name, name === 'timestamp' ? '2026-01-02T03:04:05.678901' : value]),
};

function junitSession(extra: Partial<JunitSession> = {}): JunitSession {
  return { xmlpath: null, prefix: null, family: 'xunit2', envelope: PYTEST_9, ...extra };
}

function sessionInfo(junit: JunitSession | null): SessionInfo {
  return sampleSessionInfo({}, { junit });
}

function testInfo(id: string, line = 3): TestInfo {
  return { id, file: id.split('::')[0]!, line, markers: [], scope: id.split('::')[0]!, timeout: null, bulkheadMarker: null, xdistGroup: null };
}

function fragment(extra: Partial<JunitFragment> = {}): JunitFragment {
  return { cases: [], open: null, stats: { passed: 0, failure: 0, error: 0, skipped: 0 }, doubleFail: 0, suiteProperties: [], ...extra };
}

function report(testId: string, when: Phase, outcome: PhaseReport['outcome'], junit: JunitFragment | null, extra: Partial<Omit<PhaseReport, 'pytest'>> = {}): PhaseReport {
  return samplePhaseReport(testId, when, outcome, extra, { junit });
}

function at(worker: number, r: PhaseReport): RunEventBody {
  return { type: 'test_report', worker, report: r };
}

function finished(testId: string, outcome: FinalOutcome, worker = 1): RunEventBody {
  return { type: 'test_finished', testId, worker, outcome, duration: 0, leaked: [], memory: null, locks: [] };
}

/** A passing test as its worker's pytest reports it: the testcase closes with the teardown. */
function passing(id: string, worker = 1, extra: Partial<JunitFragment> = {}): RunEventBody[] {
  const name = id.split('::').pop()!;
  const open = { attrs: [['classname', 'c'], ['name', name]] as Array<[string, string]>, time: 0.001, children: '' };
  const passed = { passed: 1, failure: 0, error: 0, skipped: 0 };
  return [
    at(worker, report(id, 'setup', 'passed', fragment({ open: { ...open, attrs: [] } }))),
    at(worker, report(id, 'call', 'passed', fragment({ open, stats: passed, ...extra }))),
    at(worker, report(id, 'teardown', 'passed', fragment({ cases: [`<testcase classname="c" name="${name}" time="0.001" />`], stats: passed, ...extra }))),
    finished(id, { kind: 'passed' }, worker),
  ];
}

const SEGV: CrashReport = { worker: 2, pid: 4242, cause: { kind: 'signal', signal: 'SIGSEGV' }, stderrTail: 'Fatal Python error: <segv>\n', stacks: '' };

interface RunSetup {
  tests?: string[];
  errors?: CollectErrorReport[];
  junit?: JunitSession | null;
  /** bulkhead's --junit (default: a file in the temp dir); null: none. */
  junitPath?: string | null;
}

async function run(bodies: RunEventBody[], setup: RunSetup = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-junit-'));
  const path = join(dir, 'sub', 'out.xml');
  const reporter = new JunitReporter(setup.junitPath === undefined ? path : setup.junitPath);
  const junit = setup.junit === undefined ? junitSession() : setup.junit;
  const all: RunEventBody[] = [
    { type: 'run_started', workers: 2, pytestArgs: [], cwd: '/p', artifactsDir: '/p/.a' },
    { type: 'session_info', info: sessionInfo(junit) },
    { type: 'collection_finished', tests: (setup.tests ?? []).map((id) => testInfo(id)), deselected: 0, errors: setup.errors ?? [], skips: [] },
    ...bodies,
    { type: 'run_finished', exitCode: 0, reason: { kind: 'completed' }, durationSeconds: 1.5 },
  ];
  all.forEach((body, seq) => reporter.onEvent({ ...body, seq, t: seq } as RunEvent));
  await reporter.close();
  try {
    return existsSync(path) ? await readFile(path, 'utf8') : '';
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The testcase elements, one per entry, without the suite around them. */
function cases(xml: string): string[] {
  const start = xml.indexOf('<testcase');
  if (start < 0) return [];
  return xml.slice(start, xml.lastIndexOf('</testsuite>')).split(/(?=<testcase )/).filter(Boolean);
}

function suiteAttr(xml: string, name: string): string | undefined {
  return new RegExp(`<testsuite [^>]*\\b${name}="([^"]*)"`).exec(xml)?.[1];
}

test("the whole document: pytest's envelope, the run's counts, the testcases pytest rendered", async () => {
  const xml = await run([...passing('t.py::test_a'), ...passing('t.py::test_b', 2)], { tests: ['t.py::test_a', 't.py::test_b'] });
  const match =
    /^<\?xml version="1\.0" encoding="utf-8"\?><testsuites name="pytest tests"><testsuite name="nightly" errors="0" failures="0" skipped="0" tests="2" time="1\.500" timestamp="([^"]+)" hostname="the-worker-host"><testcase classname="c" name="test_a" time="0\.001" \/><testcase classname="c" name="test_b" time="0\.001" \/><\/testsuite><\/testsuites>$/.exec(
      xml,
    );
  assert.ok(match, xml);
  assert.match(match[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?[+-]\d\d:\d\d$/);
});

test("pytest 7's envelope: no name on <testsuites>, a local timestamp without its offset", async () => {
  const xml = await run(passing('t.py::test_a'), { junit: junitSession({ envelope: PYTEST_7 }) });
  assert.match(xml, /^<\?xml version="1\.0" encoding="utf-8"\?><testsuites><testsuite name="nightly" /);
  assert.match(suiteAttr(xml, 'timestamp')!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/);
});

test('an empty run writes an empty suite, as pytest does', async () => {
  const xml = await run([]);
  assert.match(xml, /<testsuite name="nightly" errors="0" failures="0" skipped="0" tests="0" time="1\.500" timestamp="[^"]+" hostname="the-worker-host" \/><\/testsuites>$/);
});

test('collection order, whichever worker finished first; collection reports first, in their order', async () => {
  const [a, b, c] = ['t.py::test_1', 't.py::test_2', 'u.py::test_3'];
  const errors: CollectErrorReport[] = [
    { nodeid: 'v.py', pytest: { summaryLine: '', longrepr: 'E', longreprTerminal: '', crashMessage: null, junit: { xml: '<testcase name="v" />', order: 2 } } },
    { nodeid: 'w.py', pytest: { summaryLine: '', longrepr: 'E', longreprTerminal: '', crashMessage: null, junit: { xml: '<testcase name="w" />', order: 1 } } },
  ];
  const xml = await run([...passing(c, 2), ...passing(b, 1), ...passing(a, 2)], { tests: [a, b, c], errors });
  assert.deepEqual(
    cases(xml).map((entry) => / name="([^"]+)"/.exec(entry)?.[1]),
    ['w', 'v', 'test_1', 'test_2', 'test_3'],
  );
  assert.deepEqual([suiteAttr(xml, 'errors'), suiteAttr(xml, 'tests')], ['2', '5']);
});

test("a test's last fragment is its whole rendering: two testcases, counted once (pytest's double fail)", async () => {
  const id = 't.py::test_double';
  const xml = await run([
    at(1, report(id, 'call', 'failed', fragment({ open: { attrs: [['classname', 't'], ['name', 'test_double']], time: 0.5, children: '<failure message="m">x</failure>' }, stats: { passed: 0, failure: 1, error: 0, skipped: 0 } }))),
    at(1, report(id, 'teardown', 'failed', fragment({ cases: ['<testcase one="1" />', '<testcase two="2" />'], stats: { passed: 0, failure: 1, error: 1, skipped: 0 }, doubleFail: 1 }))),
    finished(id, { kind: 'failed' }),
  ]);
  assert.deepEqual(cases(xml), ['<testcase one="1" />', '<testcase two="2" />']);
  assert.deepEqual([suiteAttr(xml, 'errors'), suiteAttr(xml, 'failures'), suiteAttr(xml, 'tests')], ['1', '1', '1']);
});

test('a crash: the testcase pytest had open is finished with the crash and the properties the test recorded', async () => {
  const id = 't.py::test_crash';
  const open = { attrs: [['classname', 't'], ['name', 'test_crash'], ['owner', 'a&b']] as Array<[string, string]>, time: 0.5, children: '<system-out>out</system-out>' };
  const xml = await run(
    [
      at(2, report(id, 'setup', 'passed', fragment({ open }), { userProperties: [['p', 'v\u0007']] })),
      { type: 'test_crashed', testId: id, crash: SEGV, willRetry: false },
      finished(id, { kind: 'crashed', crash: SEGV, retry: null }, 2),
    ],
    { tests: [id] },
  );
  assert.deepEqual(cases(xml), [
    '<testcase classname="t" name="test_crash" owner="a&amp;b" time="0.500"><properties><property name="p" value="v#x07" /></properties><system-out>out</system-out>' +
      '<error type="crashed" message="worker 2 (pid 4242) was killed by SIGSEGV while running t.py::test_crash">worker stderr (last lines):\nFatal Python error: &lt;segv&gt;</error></testcase>',
  ]);
  assert.deepEqual([suiteAttr(xml, 'errors'), suiteAttr(xml, 'tests')], ['1', '1']);
});

test('a crash before any report: named as pytest would (prefix; file and line in xunit1)', async () => {
  const id = 'pkg/t.py::TestK::test_early[x]';
  const timeout: CrashReport = { worker: 3, pid: null, cause: { kind: 'timeout', limitSeconds: 5 }, stderrTail: '', stacks: 'Current thread 0x1:' };
  const outcome: FinalOutcome = { kind: 'crashed', crash: timeout, retry: { verdict: 'crashes_alone', attempt: { ...timeout, worker: 4 } } };
  const xml = await run([finished(id, outcome, 3)], { tests: [id], junit: junitSession({ prefix: 'pre', family: 'xunit1' }) });
  assert.deepEqual(cases(xml), [
    '<testcase classname="pre.pkg.t.TestK" name="test_early[x]" file="pkg/t.py" line="3" time="0.000"><properties><property name="bulkhead.isolated_retry" value="crashes on its own: run alone in a fresh worker, it was killed after the test passed its timeout of 5s again" /></properties>' +
      '<error type="timeout" message="worker 3 was killed after the test passed its timeout of 5s while running pkg/t.py::TestK::test_early[x]">Python stacks (faulthandler):\nCurrent thread 0x1:</error>' +
      '<rerunError type="timeout" message="alone: worker 4 was killed after the test passed its timeout of 5s while running pkg/t.py::TestK::test_early[x]">Python stacks (faulthandler):\nCurrent thread 0x1:</rerunError></testcase>',
  ]);
});

test('a crash after a failed call: the failure keeps its testcase, the crash opens a second (counted once)', async () => {
  const id = 't.py::test_t';
  const open = { attrs: [['classname', 't'], ['name', 'test_t']] as Array<[string, string]>, time: 0.25, children: '<failure message="boom">E boom</failure>' };
  const crash: CrashReport = { worker: 1, pid: 7, cause: { kind: 'exit_code', code: 3 }, stderrTail: 'tail', stacks: '' };
  const xml = await run([
    at(1, report(id, 'call', 'failed', fragment({ open, stats: { passed: 0, failure: 1, error: 0, skipped: 0 } }), { userProperties: [['k', '1']] })),
    finished(id, { kind: 'crashed', crash, retry: null }),
  ]);
  assert.deepEqual(cases(xml), [
    '<testcase classname="t" name="test_t" time="0.250"><properties><property name="k" value="1" /></properties><failure message="boom">E boom</failure></testcase>',
    '<testcase classname="t" name="test_t" time="0.000"><properties><property name="k" value="1" /></properties><error type="crashed" message="worker 1 (pid 7) exited with code 3 while running t.py::test_t">worker stderr (last lines):\ntail</error></testcase>',
  ]);
  assert.deepEqual([suiteAttr(xml, 'errors'), suiteAttr(xml, 'failures'), suiteAttr(xml, 'tests')], ['1', '1', '1']);
});

test('a flaky pass: the crashed attempt is written in a Surefire <flakyError>, counted as a pass; the retry does not reset it', async () => {
  const id = 't.py::test_flaky';
  const open = { attrs: [['classname', 't'], ['name', 'test_flaky']] as Array<[string, string]>, time: 0.125, children: '' };
  const xml = await run([
    at(2, report(id, 'setup', 'passed', fragment({ open }))),
    { type: 'test_crashed', testId: id, crash: SEGV, willRetry: true },
    { type: 'test_started', testId: id, worker: 5 },
    finished(id, { kind: 'flaky', flaky: 'load', crash: { ...SEGV, beside: [{ worker: 3, testId: 't.py::test_big', memoryBytes: 3 * 1024 ** 3 }] } }, 5),
  ]);
  assert.deepEqual(cases(xml), [
    '<testcase classname="t" name="test_flaky" time="0.125"><flakyError message="worker 2 (pid 4242) was killed by SIGSEGV while running t.py::test_flaky; ' +
      'beside it: worker 3 running t.py::test_big (3.0 GiB)" type="crashed"><system-err>Fatal Python error: &lt;segv&gt;</system-err></flakyError></testcase>',
  ]);
  assert.deepEqual([suiteAttr(xml, 'errors'), suiteAttr(xml, 'tests')], ['0', '1']);
});

test('an attempt cut short for no fault of the test is forgotten when it starts again', async () => {
  const id = 't.py::test_again';
  const stale = { attrs: [['classname', 'stale']] as Array<[string, string]>, time: 9, children: '<system-out>old</system-out>' };
  const xml = await run([
    at(1, report(id, 'setup', 'passed', fragment({ open: stale }))),
    { type: 'test_started', testId: id, worker: 2 },
    ...passing(id, 2),
  ]);
  assert.deepEqual(cases(xml), ['<testcase classname="c" name="test_again" time="0.001" />']);
});

test('a test that did not run is not written, even after a passed setup; an interrupted one is, as it stands', async () => {
  const open = { attrs: [['classname', 't'], ['name', 'x']] as Array<[string, string]>, time: 1, children: '' };
  const failedOpen = { ...open, children: '<failure message="f">f</failure>' };
  const xml = await run([
    at(1, report('t.py::test_late', 'setup', 'passed', fragment({ open }))),
    finished('t.py::test_late', { kind: 'not_run', reason: 'stopping after 1 failures' }),
    finished('t.py::test_never', { kind: 'not_run', reason: 'stopping after 1 failures' }),
    at(1, report('t.py::test_cut', 'call', 'failed', fragment({ open: failedOpen, stats: { passed: 0, failure: 1, error: 0, skipped: 0 } }), { userProperties: [['k', 'v']] })),
    finished('t.py::test_cut', { kind: 'interrupted', detail: 'KeyboardInterrupt' }),
  ]);
  // pytest writes a testcase it never finalized without its properties.
  assert.deepEqual(cases(xml), ['<testcase classname="t" name="x" time="1.000"><failure message="f">f</failure></testcase>']);
  assert.equal(suiteAttr(xml, 'tests'), '1');
});

test('record_testsuite_property: merged across workers, in the order of the tests that recorded them', async () => {
  const [a, b, c] = ['t.py::test_1', 't.py::test_2', 't.py::test_3'];
  const xml = await run(
    [
      ...passing(c, 2, { suiteProperties: [['ARCH', 'x86'], ['late', '1']] }),
      ...passing(a, 1, { suiteProperties: [['ARCH', 'x86'], ['run', 'a&amp;b']] }),
      ...passing(b, 1, { suiteProperties: [['run', 'a&amp;b']] }),
    ],
    { tests: [a, b, c] },
  );
  assert.match(xml, /<testsuite [^>]*><properties><property name="ARCH" value="x86" \/><property name="run" value="a&amp;amp;b" \/><property name="run" value="a&amp;amp;b" \/><property name="late" value="1" \/><\/properties><testcase /);
  assert.deepEqual(
    mergeSuiteProperties([
      { worker: 1, properties: [['k', 'v']] },
      { worker: 2, properties: [['k', 'v'], ['k', 'v']] },
      { worker: 1, properties: [['k', 'v']] },
    ]),
    [['k', 'v'], ['k', 'v']],
  );
});

test("where it is written: --junit, pytest's --junitxml, both, or nowhere", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-junit-paths-'));
  try {
    const xmlpath = join(dir, 'pytest.xml');
    const own = join(dir, 'own', 'bulkhead.xml');
    const write = async (path: string | null, junit: JunitSession | null): Promise<void> => {
      const reporter = new JunitReporter(path);
      reporter.onEvent({ type: 'session_info', info: sessionInfo(junit), seq: 0, t: 0 });
      await reporter.close();
    };
    await write(null, null);
    assert.equal(existsSync(xmlpath) || existsSync(own), false);
    await write(null, junitSession({ xmlpath }));
    assert.match(await readFile(xmlpath, 'utf8'), /<testsuites name="pytest tests">/);
    await rm(xmlpath);
    await write(own, junitSession({ xmlpath }));
    assert.equal(await readFile(own, 'utf8'), await readFile(xmlpath, 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a collection error no worker rendered (an older recording) is written in pytest's form", async () => {
  const xml = await run([], {
    junit: null,
    errors: [{ nodeid: 'pkg/test_bad.py', pytest: { summaryLine: '', longrepr: 'E   ModuleNotFoundError: <x>', longreprTerminal: '', crashMessage: null, junit: null } }],
  });
  assert.deepEqual(cases(xml), ['<testcase classname="" name="pkg.test_bad" time="0.000"><error message="collection failure">E   ModuleNotFoundError: &lt;x&gt;</error></testcase>']);
  assert.match(xml, /^<\?xml version="1\.0" encoding="utf-8"\?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" /);
});

test('helpers match Python: .3f rounding, isoformat, mangle_test_address, bin_xml_escape, ET serialisation', () => {
  assert.deepEqual([0.0625, 0.1875, 0.0005, 2.0015, 12.3456].map(formatSeconds), ['0.062', '0.188', '0.001', '2.002', '12.346']);
  // 1764000000123 is 2025-11-24T16:00:00.123Z; shown in the recorded zone, whatever this process's is.
  assert.equal(isoTimestamp({ epochMs: 1764000000123, utcOffsetMinutes: 60 }), '2025-11-24T17:00:00.123000+01:00');
  assert.equal(isoTimestamp({ epochMs: 1764000000000, utcOffsetMinutes: -330 }), '2025-11-24T10:30:00-05:30');
  assert.equal(isoTimestamp({ epochMs: 1764000000000, utcOffsetMinutes: 0 }), '2025-11-24T16:00:00+00:00');
  assert.equal(isoTimestamp({ epochMs: 1764000000123, utcOffsetMinutes: 60 }, true), '2025-11-24T17:00:00.123000');
  assert.deepEqual(mangleTestAddress('a/b/test_x.py::C::t[p/q::r.py]'), ['a.b.test_x', 'C', 't[p/q::r.py]']);
  assert.equal(binXmlEscape('a\u0000\u007f\u0080\ud800\ufffe\u{10000}é'), 'a#x00\u007f\u0080#xD800#xFFFE#x10000é');
  assert.equal(serialize(element('a', [['k', 'x\ty\n"<&>']], null, [raw('')])), '<a k="x&#09;y&#10;&quot;&lt;&amp;&gt;" />');
  assert.equal(serialize(element('a', [], 'a<b', [raw('<c />'), element('d', [])])), '<a>a&lt;b<c /><d /></a>');
});
