/**
 * Isolated retries collect only the crashed test's file, on `isolated-collection`: two tests
 * segfault their worker under load (one only the first time, one every time); every module and
 * conftest leaves `<name>-<pid>` on import. Each retry's fresh worker imports only the crashed
 * test's module (and the conftest on its way), the verdicts are as before (flaky / crashes on its
 * own), and --json and --junit list every test with the outcome a full collection gave.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixture, describeRun, jsonOutcomes, runCli, summaryLine, type CliResult } from '../support/cli.js';
import { caseKey, caseOutcome, junitKeyOfNodeId, parseJunit } from '../support/junit-outcomes.js';
import { shortSummary } from '../support/output.js';

const ONCE = 'tests/test_crash_once.py::test_segfaults_once';
const ALWAYS = 'tests/test_crash_always.py::test_segfaults_always';
const EXPECTED: Record<string, string> = {
  'tests/test_crash_always.py::test_segfaults_always': 'crashed',
  'tests/test_crash_always.py::test_beside_always': 'passed',
  'tests/test_crash_once.py::test_beside_once': 'passed',
  [ONCE]: 'flaky',
  ...Object.fromEntries([0, 1, 2].map((n) => [`tests/test_other.py::test_other[${n}]`, 'passed'])),
  'tests/sub/test_deep.py::test_deep': 'passed',
};

const project = copyFixture('isolated-collection');
const marks = join(project.dir, 'marks');
let bulk: CliResult;

before(async () => {
  mkdirSync(marks);
  bulk = await runCli({ cwd: project.dir, workers: 2, env: { ISO_MARKS: marks }, timeoutMs: 120_000 });
});
after(() => project.cleanup());

/** The names each process left: pid -> names imported (or run) there. */
function marksByPid(): Map<string, string[]> {
  const byPid = new Map<string, string[]>();
  for (const file of readdirSync(marks)) {
    const at = file.lastIndexOf('-');
    if (at < 0) continue;
    const pid = file.slice(at + 1);
    byPid.set(pid, [...(byPid.get(pid) ?? []), file.slice(0, at)].sort());
  }
  return byPid;
}

/** The pid of the process that ran a test the second time (its isolated retry). */
function retryPid(ranMark: string): string {
  const pids = [...marksByPid()].filter(([, names]) => names.includes(ranMark)).map(([pid]) => pid);
  assert.equal(pids.length, 2, `${ranMark} ran twice, in two processes: ${JSON.stringify([...marksByPid()])}`);
  // The retry's process imported less than the whole suite (the pool worker imported it all).
  return pids.find((pid) => !(marksByPid().get(pid) ?? []).includes('test_other'))!;
}

test('the run completes: exit 1 (one test crashes on its own), every test accounted for', () => {
  assert.equal(bulk.timedOut, false);
  assert.equal(bulk.code, 1, describeRun(bulk));
  assert.equal(bulk.json?.run.end?.kind, 'completed');
  assert.deepEqual(jsonOutcomes(bulk.json!), EXPECTED);
  assert.equal(summaryLine(bulk.stdout), '6 passed, 1 crashed, 1 flaky');
});

test('each retry ran in a fresh worker that imported only its test module and the conftest on its way', () => {
  assert.deepEqual(marksByPid().get(retryPid('ran_once')), ['conftest', 'ran_once', 'test_crash_once']);
  assert.deepEqual(marksByPid().get(retryPid('ran_always')), ['conftest', 'ran_always', 'test_crash_always']);
});

test('the pool workers collected the whole suite (the markers do tell)', () => {
  const full = [...marksByPid().values()].filter((names) => names.includes('test_other'));
  assert.ok(full.length >= 2, JSON.stringify([...marksByPid()]));
  for (const names of full) for (const name of ['conftest', 'sub_conftest', 'test_deep', 'test_crash_once', 'test_crash_always']) assert.ok(names.includes(name), name);
});

test('the verdicts of the retries: crashes on its own; crashed only under load', () => {
  const lines = shortSummary(bulk.stdout);
  assert.ok(
    lines.some((line) => new RegExp(`^CRASHED ${ALWAYS} - worker \\d+ \\(pid \\d+\\) was killed by SIGSEGV while running ${ALWAYS} \\[crashes on its own\\]$`).test(line)),
    lines.join('\n'),
  );
  const once = bulk.json!.tests.find((entry) => entry.id === ONCE)!;
  const always = bulk.json!.tests.find((entry) => entry.id === ALWAYS)!;
  assert.deepEqual(always.cause, { kind: 'signal', signal: 'SIGSEGV' });
  assert.notEqual(once.worker, always.worker, 'each retry had its own fresh worker');
});

test('--junit: every test as a full collection reports it', () => {
  const outcomes = Object.fromEntries(parseJunit(bulk.junitXml!).cases.map((testcase) => [caseKey(testcase), caseOutcome(testcase)]));
  const junitOf: Record<string, string> = { crashed: 'error', flaky: 'passed' };
  const expected = Object.fromEntries(Object.entries(EXPECTED).map(([id, outcome]) => [junitKeyOfNodeId(id), junitOf[outcome] ?? outcome]));
  assert.deepEqual(outcomes, expected);
});

test('no worker process outlives the run', () => {
  assert.deepEqual(bulk.leftovers, []);
});
