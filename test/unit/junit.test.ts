import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent, RunEventBody } from '../../src/model/event.js';
import type { FinalOutcome } from '../../src/model/outcome.js';
import type { CollectErrorReport, Phase, PhaseReport } from '../../src/model/report.js';
import { JunitReporter } from '../../src/reporters/junit.js';
import { binXmlEscape, formatSeconds, isoTimestamp, mangleTestAddress } from '../../src/reporters/junit-xml.js';

function report(testId: string, when: Phase, outcome: PhaseReport['outcome'], extra: Partial<PhaseReport> = {}): PhaseReport {
  return {
    testId,
    when,
    outcome,
    category: outcome,
    letter: '.',
    word: outcome.toUpperCase(),
    duration: 0,
    longrepr: '',
    longreprTerminal: '',
    crashMessage: null,
    skip: null,
    wasxfail: null,
    headLine: testId,
    sections: [],
    userProperties: [],
    summaryLine: '',
    location: { file: testId.split('::')[0]!, line: 0, domain: testId },
    ...extra,
  };
}

/** setup, call and teardown of a test; `call` and the others override the passed defaults. */
function phases(id: string, call: Partial<PhaseReport> & { outcome?: PhaseReport['outcome'] } = {}): RunEventBody[] {
  const { outcome = 'passed', ...rest } = call;
  return [
    { type: 'test_report', worker: 1, report: report(id, 'setup', 'passed') },
    { type: 'test_report', worker: 1, report: report(id, 'call', outcome, rest) },
    { type: 'test_report', worker: 1, report: report(id, 'teardown', 'passed') },
    finished(id, { kind: 'passed' }),
  ];
}

function finished(testId: string, outcome: FinalOutcome, worker = 1): RunEventBody {
  return { type: 'test_finished', testId, worker, outcome, duration: 0, leaked: [], memory: null, locks: [] };
}

async function run(bodies: RunEventBody[], errors: CollectErrorReport[] = [], durationSeconds = 1.5): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulkhead-junit-'));
  const path = join(dir, 'sub', 'out.xml');
  const reporter = new JunitReporter(path);
  const all: RunEventBody[] = [
    { type: 'run_started', workers: 2, pytestArgs: [], cwd: '/p', artifactsDir: '/p/.a' },
    { type: 'collection_finished', tests: [], deselected: 0, errors, skips: [] },
    ...bodies,
    { type: 'run_finished', exitCode: 0, reason: { kind: 'completed' }, durationSeconds },
  ];
  all.forEach((body, seq) => reporter.onEvent({ ...body, seq, t: seq } as RunEvent));
  await reporter.close();
  try {
    return await readFile(path, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The testcase elements, one per line, without the suite around them. */
function cases(xml: string): string[] {
  const body = xml.slice(xml.indexOf('<testcase'), xml.lastIndexOf('</testsuite>'));
  return body.split(/(?=<testcase )/).filter(Boolean);
}

function suiteAttr(xml: string, name: string): string | undefined {
  return new RegExp(`<testsuite [^>]*\\b${name}="([^"]*)"`).exec(xml)?.[1];
}

test('a passing test: the whole document as pytest writes it', async () => {
  const xml = await run(phases('tests/sub/test_a.py::TestK::test_m[1]'));
  const match = /^<\?xml version="1\.0" encoding="utf-8"\?><testsuites name="pytest tests"><testsuite name="pytest" errors="0" failures="0" skipped="0" tests="1" time="1\.500" timestamp="([^"]+)" hostname="([^"]*)"><testcase classname="tests\.sub\.test_a\.TestK" name="test_m\[1\]" time="0\.000" \/><\/testsuite><\/testsuites>$/.exec(xml);
  assert.ok(match, xml);
  assert.match(match[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?[+-]\d\d:\d\d$/);
  assert.equal(match[2], hostname());
});

test('a failure: reprcrash message, longrepr text, durations summed over the phases', async () => {
  const id = 'test_a.py::test_fail';
  const xml = await run([
    { type: 'test_report', worker: 1, report: report(id, 'setup', 'passed', { duration: 0.001 }) },
    { type: 'test_report', worker: 1, report: report(id, 'call', 'failed', { duration: 0.0125, crashMessage: 'assert 1 == 2', longrepr: 'def test_fail():\n>       assert 1 == 2\nE       assert 1 == 2' }) },
    { type: 'test_report', worker: 1, report: report(id, 'teardown', 'passed', { duration: 0.0005 }) },
    finished(id, { kind: 'failed' }),
  ]);
  assert.deepEqual(cases(xml), [
    '<testcase classname="test_a" name="test_fail" time="0.014"><failure message="assert 1 == 2">def test_fail():\n&gt;       assert 1 == 2\nE       assert 1 == 2</failure></testcase>',
  ]);
  assert.equal(suiteAttr(xml, 'failures'), '1');
  assert.equal(suiteAttr(xml, 'tests'), '1');
});

test('an error in setup', async () => {
  const id = 'test_a.py::test_setup_error';
  const xml = await run([
    { type: 'test_report', worker: 1, report: report(id, 'setup', 'failed', { crashMessage: 'RuntimeError: setup broke', longrepr: 'E   RuntimeError: setup broke' }) },
    { type: 'test_report', worker: 1, report: report(id, 'teardown', 'passed') },
    finished(id, { kind: 'error' }),
  ]);
  assert.deepEqual(cases(xml), [
    '<testcase classname="test_a" name="test_setup_error" time="0.000"><error message="failed on setup with &quot;RuntimeError: setup broke&quot;">E   RuntimeError: setup broke</error></testcase>',
  ]);
  assert.equal(suiteAttr(xml, 'errors'), '1');
});

test('a failed call and an error in teardown open a second testcase, counted once', async () => {
  const id = 'test_a.py::test_double';
  const props: Array<[string, string]> = [['k', 'v1']];
  const xml = await run([
    { type: 'test_report', worker: 1, report: report(id, 'setup', 'passed', { duration: 0.25 }) },
    { type: 'test_report', worker: 1, report: report(id, 'call', 'failed', { duration: 0.5, crashMessage: 'assert False', longrepr: 'E assert False', userProperties: props }) },
    { type: 'test_report', worker: 1, report: report(id, 'teardown', 'failed', { duration: 0.125, crashMessage: 'ValueError: td', longrepr: 'E ValueError: td', userProperties: props }) },
    finished(id, { kind: 'failed' }),
  ]);
  assert.deepEqual(cases(xml), [
    '<testcase classname="test_a" name="test_double" time="0.750"><properties><property name="k" value="v1" /></properties><failure message="assert False">E assert False</failure></testcase>',
    '<testcase classname="test_a" name="test_double" time="0.125"><properties><property name="k" value="v1" /></properties><error message="failed on teardown with &quot;ValueError: td&quot;">E ValueError: td</error></testcase>',
  ]);
  assert.deepEqual([suiteAttr(xml, 'errors'), suiteAttr(xml, 'failures'), suiteAttr(xml, 'tests')], ['1', '1', '1']);
});

test('an error in teardown after a passed call stays in one testcase', async () => {
  const id = 'test_a.py::test_td';
  const xml = await run([
    ...phases(id).slice(0, 2),
    { type: 'test_report', worker: 1, report: report(id, 'teardown', 'failed', { crashMessage: null, longrepr: 'plain' }) },
    finished(id, { kind: 'error' }),
  ]);
  assert.deepEqual(cases(xml), [
    '<testcase classname="test_a" name="test_td" time="0.000"><error message="failed on teardown with &quot;plain&quot;">plain</error></testcase>',
  ]);
  // pytest counts the pass and the error: tests="2" for one test.
  assert.deepEqual([suiteAttr(xml, 'errors'), suiteAttr(xml, 'tests')], ['1', '2']);
});

test('skips: pytest.skip with the "Skipped: " prefix stripped and path:line: reason as text', async () => {
  const id = 'test_a.py::test_skip';
  const skip = { path: '/p/test_a.py', line: 33, reason: 'Skipped: not <today>', foldPath: 'test_a.py', foldLine: 33 };
  const xml = await run([
    { type: 'test_report', worker: 1, report: report(id, 'setup', 'skipped', { skip }) },
    { type: 'test_report', worker: 1, report: report(id, 'teardown', 'passed') },
    finished(id, { kind: 'skipped', reason: 'not <today>' }),
  ]);
  assert.deepEqual(cases(xml), [
    '<testcase classname="test_a" name="test_skip" time="0.000"><skipped type="pytest.skip" message="not &lt;today&gt;">/p/test_a.py:33: not &lt;today&gt;</skipped></testcase>',
  ]);
  assert.equal(suiteAttr(xml, 'skipped'), '1');
});

test('xfail: pytest.xfail with "reason: " stripped, empty element; a lenient xpass is a pass', async () => {
  const xml = await run([
    ...phases('test_a.py::test_xfail', { outcome: 'skipped', wasxfail: 'reason: known bug', longrepr: 'E ValueError' }),
    ...phases('test_a.py::test_xfail_noreason', { outcome: 'skipped', wasxfail: '' }),
    ...phases('test_a.py::test_xpass', { outcome: 'passed', wasxfail: 'lenient' }),
  ]);
  assert.deepEqual(cases(xml), [
    '<testcase classname="test_a" name="test_xfail" time="0.000"><skipped type="pytest.xfail" message="known bug" /></testcase>',
    '<testcase classname="test_a" name="test_xfail_noreason" time="0.000"><skipped type="pytest.xfail" message="" /></testcase>',
    '<testcase classname="test_a" name="test_xpass" time="0.000" />',
  ]);
  assert.deepEqual([suiteAttr(xml, 'skipped'), suiteAttr(xml, 'tests')], ['2', '3']);
});

test('a strict xpass is a failure whose message is the whole longrepr', async () => {
  const xml = await run(phases('test_a.py::test_strict', { outcome: 'failed', longrepr: '[XPASS(strict)] strict one' }));
  assert.deepEqual(cases(xml), [
    '<testcase classname="test_a" name="test_strict" time="0.000"><failure message="[XPASS(strict)] strict one">[XPASS(strict)] strict one</failure></testcase>',
  ]);
});

test('a crash: an error typed by its cause, stderr tail as text, in the place of its first report', async () => {
  const crashed = 'test_a.py::test_crash';
  const stopped = 'test_a.py::test_stopped';
  const xml = await run([
    { type: 'test_report', worker: 2, report: report(crashed, 'setup', 'passed', { duration: 0.5, userProperties: [['p', '1']] }) },
    ...phases('test_a.py::test_other'),
    finished(crashed, { kind: 'crashed', crash: { worker: 2, pid: 4242, cause: { kind: 'signal', signal: 'SIGSEGV' }, stderrTail: 'Fatal Python error: <segv>\n', stacks: '' }, retry: null }, 2),
    finished(stopped, { kind: 'crashed', crash: { worker: 3, pid: null, cause: { kind: 'timeout', limitSeconds: 5 }, stderrTail: '', stacks: 'Current thread 0x1 (most recent call first):' }, retry: { verdict: 'passed_alone' } }, 3),
  ]);
  assert.deepEqual(cases(xml), [
    '<testcase classname="test_a" name="test_crash" time="0.500"><properties><property name="p" value="1" /></properties><error type="crashed" message="worker 2 (pid 4242) was killed by SIGSEGV while running test_a.py::test_crash">worker stderr (last lines):\nFatal Python error: &lt;segv&gt;</error></testcase>',
    '<testcase classname="test_a" name="test_other" time="0.000" />',
    '<testcase classname="test_a" name="test_stopped" time="0.000"><properties><property name="bulkhead.isolated_retry" value="passed alone: crashed only under parallel load" /></properties><error type="timeout" message="worker 3 was killed after the test passed its timeout of 5s while running test_a.py::test_stopped">Python stacks (faulthandler):\nCurrent thread 0x1 (most recent call first):</error></testcase>',
  ]);
  assert.deepEqual([suiteAttr(xml, 'errors'), suiteAttr(xml, 'tests')], ['2', '3']);
});

test('a crash in teardown after a failed call opens a second testcase, like a teardown error', async () => {
  const id = 'test_a.py::test_t';
  const xml = await run([
    ...phases(id, { outcome: 'failed', crashMessage: 'boom', longrepr: 'E boom' }).slice(0, 2),
    finished(id, { kind: 'crashed', crash: { worker: 1, pid: 7, cause: { kind: 'exit_code', code: 3 }, stderrTail: 'tail', stacks: '' }, retry: null }),
  ]);
  assert.equal(cases(xml).length, 2);
  assert.match(cases(xml)[1]!, /<error type="crashed" message="worker 1 \(pid 7\) exited with code 3 while running test_a.py::test_t">worker stderr \(last lines\):\ntail<\/error>/);
  assert.deepEqual([suiteAttr(xml, 'errors'), suiteAttr(xml, 'failures'), suiteAttr(xml, 'tests')], ['1', '1', '1']);
});

test('tests that did not run are not written, even after a passed setup', async () => {
  const id = 'test_a.py::test_late';
  const xml = await run([
    ...phases('test_a.py::test_ok'),
    { type: 'test_report', worker: 1, report: report(id, 'setup', 'passed', { duration: 1 }) },
    finished(id, { kind: 'not_run', reason: 'stopping after 1 failures' }),
    finished('test_a.py::test_never', { kind: 'not_run', reason: 'stopping after 1 failures' }),
  ]);
  assert.deepEqual(cases(xml), ['<testcase classname="test_a" name="test_ok" time="0.000" />']);
  assert.equal(suiteAttr(xml, 'tests'), '1');
});

test('testcases keep the order of their first report across interleaved workers', async () => {
  const [a, b] = ['test_a.py::test_1', 'test_b.py::test_2'];
  const at = (id: string, when: Phase, worker: number): RunEventBody => ({ type: 'test_report', worker, report: report(id, when, 'passed') });
  const xml = await run([at(a, 'setup', 1), at(b, 'setup', 2), at(b, 'call', 2), at(b, 'teardown', 2), at(a, 'call', 1), at(a, 'teardown', 1)]);
  assert.deepEqual(cases(xml).map((c) => / name="([^"]+)"/.exec(c)?.[1]), ['test_1', 'test_2']);
});

test('properties and escaping: bin_xml_escape, attribute newlines and tabs, text entities', async () => {
  const id = 'test_a.py::test_props[\u0001\u{1F600}]';
  const xml = await run(phases(id, {
    outcome: 'failed',
    crashMessage: 'Exception: multi\nline\r\n\ttab "q" & <x>\u001b',
    longrepr: 'E  a & b < c > d "q"\r\n\u0007\u007f',
    userProperties: [['p<1>', 'x\ty\nz\u0007']],
  }).map((body) => (body.type === 'test_report' && body.report.when === 'teardown'
    ? { ...body, report: { ...body.report, userProperties: [['p<1>', 'x\ty\nz\u0007']] as Array<[string, string]> } }
    : body)));
  assert.deepEqual(cases(xml), [
    '<testcase classname="test_a" name="test_props[#x01#x1F600]" time="0.000"><properties><property name="p&lt;1&gt;" value="x&#09;y&#10;z#x07" /></properties>'
      + '<failure message="Exception: multi&#10;line&#13;&#10;&#09;tab &quot;q&quot; &amp; &lt;x&gt;#x1B">E  a &amp; b &lt; c &gt; d "q"\r\n#x07\u007f</failure></testcase>',
  ]);
});

test('collection errors come first, as "collection failure" testcases', async () => {
  const xml = await run(phases('test_a.py::test_ok'), [
    { nodeid: 'pkg/test_bad.py', summaryLine: '', longrepr: 'E   ModuleNotFoundError: <x>', longreprTerminal: '', crashMessage: null },
  ]);
  assert.deepEqual(cases(xml), [
    '<testcase classname="" name="pkg.test_bad" time="0.000"><error message="collection failure">E   ModuleNotFoundError: &lt;x&gt;</error></testcase>',
    '<testcase classname="test_a" name="test_ok" time="0.000" />',
  ]);
  assert.deepEqual([suiteAttr(xml, 'errors'), suiteAttr(xml, 'tests')], ['1', '2']);
});

test('helpers match Python: .3f rounding, isoformat, mangle_test_address, bin_xml_escape', () => {
  assert.deepEqual([0.0625, 0.1875, 0.0005, 2.0015, 12.3456].map(formatSeconds), ['0.062', '0.188', '0.001', '2.002', '12.346']);
  assert.match(isoTimestamp(new Date(1764000000123)), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.123000[+-]\d\d:\d\d$/);
  assert.match(isoTimestamp(new Date(1764000000000)), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
  assert.deepEqual(mangleTestAddress('a/b/test_x.py::C::t[p/q::r.py]'), ['a.b.test_x', 'C', 't[p/q::r.py]']);
  assert.equal(binXmlEscape('a\u0000\u007f\u0080\ud800\ufffe\u{10000}é'), 'a#x00\u007f\u0080#xD800#xFFFE#x10000é');
});
