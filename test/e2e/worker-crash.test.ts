/**
 * Tests that kill their worker (os._exit(3), SIGKILL to itself), among passing tests, on the
 * `worker-crash` project: the crashing test is reported 'crashed' with its cause, every other test
 * still runs (on the surviving or a replacement worker) and passes, and the exit code is 1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFixture, describeRun, jsonOutcomes, runCli, summaryLine, type CliResult } from '../support/cli.js';
import { junitKeyOfNodeId, parseJunit, caseKey, caseOutcome } from '../support/junit-outcomes.js';
import { shortSummary, section } from '../support/output.js';

const C = 'tests/test_crashes.py';
const EXIT = `${C}::test_exit_3`;
const KILL = `${C}::test_sigkill_self`;
const EXPECTED: Record<string, string> = {
  [`${C}::test_before_exit`]: 'passed',
  [EXIT]: 'crashed',
  [`${C}::test_after_exit`]: 'passed',
  [KILL]: 'crashed',
  [`${C}::test_after_sigkill`]: 'passed',
  ...Object.fromEntries([0, 1, 2, 3].map((n) => [`tests/test_fine_one.py::test_one[${n}]`, 'passed'])),
  ...Object.fromEntries([0, 1, 2, 3].map((n) => [`tests/test_fine_two.py::test_two[${n}]`, 'passed'])),
};

const project = copyFixture('worker-crash');
let bulk: CliResult;

before(async () => {
  bulk = await runCli({ cwd: project.dir });
});
after(() => project.cleanup());

test('exit code 1; the run completes', () => {
  assert.equal(bulk.timedOut, false);
  assert.equal(bulk.code, 1, describeRun(bulk));
  assert.equal(bulk.json?.run.exitCode, 1);
  assert.equal(bulk.json?.run.end?.kind, 'completed');
});

test('the crashing tests are crashed, every other test ran and passed', () => {
  assert.deepEqual(jsonOutcomes(bulk.json!), EXPECTED);
  assert.equal(bulk.json!.summary.crashed, 2);
  assert.equal(bulk.json!.summary.passed, 11);
  assert.equal(bulk.json!.summary.not_run, 0);
});

test('--json names the cause of each crash, and the stderr tail', () => {
  const byId = new Map(bulk.json!.tests.map((entry) => [entry.id, entry]));
  const exited = byId.get(EXIT)!;
  assert.deepEqual(exited.cause, { kind: 'exit_code', code: 3 });
  assert.match(exited.stderrTail ?? '', /bulkhead-e2e: about to os\._exit\(3\)/);
  assert.ok(exited.worker !== null && exited.worker >= 1);
  const killed = byId.get(KILL)!;
  assert.deepEqual(killed.cause, { kind: 'signal', signal: 'SIGKILL' });
  assert.ok(killed.worker !== null && killed.worker >= 1);
  // Two different worker processes died: neither crash is blamed on the other's worker.
  assert.notEqual(exited.worker, killed.worker);
});

test("--json's reason of a crashed test is the crash description (as its format documents)", () => {
  const byId = new Map(bulk.json!.tests.map((entry) => [entry.id, entry]));
  assert.match(byId.get(EXIT)!.reason ?? '', /exited with code 3/);
  assert.match(byId.get(KILL)!.reason ?? '', /killed by SIGKILL/);
});

test('replacement workers ran the rest: more than 2 worker ids, never more than 2 at once', () => {
  const workers = new Set(bulk.json!.tests.map((entry) => entry.worker));
  assert.ok(workers.size >= 3, `workers used: ${[...workers].join(', ')}`);
  assert.ok(bulk.maxChildren <= 2, `${bulk.maxChildren} worker processes at once`);
  assert.ok(bulk.maxChildren >= 1, 'the sampler saw the workers');
});

test('terminal: CRASHED lines naming worker, pid and cause; summary line', () => {
  const lines = shortSummary(bulk.stdout);
  assert.ok(
    lines.some((line) => new RegExp(`^CRASHED ${EXIT} - worker \\d+ \\(pid \\d+\\) exited with code 3 while running ${EXIT} \\[crashes on its own\\]$`).test(line)),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((line) => new RegExp(`^CRASHED ${KILL} - worker \\d+ \\(pid \\d+\\) was killed by SIGKILL while running ${KILL} \\[crashes on its own\\]$`).test(line)),
    lines.join('\n'),
  );
  const failures = section(bulk.stdout, 'FAILURES') ?? '';
  assert.match(failures, /worker stderr \(last lines\)/);
  assert.match(failures, /bulkhead-e2e: about to os\._exit\(3\)/);
  // Each crash was run again alone in a fresh worker, and crashed again: deterministic.
  assert.match(failures, /isolated retry: crashes on its own/);
  assert.equal(summaryLine(bulk.stdout), '11 passed, 2 crashed');
});

test('--junit reports each crash as an error naming the cause', () => {
  const cases = parseJunit(bulk.junitXml!).cases;
  const outcomes = Object.fromEntries(cases.map((testcase) => [caseKey(testcase), caseOutcome(testcase)]));
  const expected = Object.fromEntries(
    Object.entries(EXPECTED).map(([id, outcome]) => [junitKeyOfNodeId(id), outcome === 'crashed' ? 'error' : outcome]),
  );
  assert.deepEqual(outcomes, expected);
  const exit = cases.find((testcase) => caseKey(testcase) === junitKeyOfNodeId(EXIT))!;
  const error = exit.children.find((child) => child.tag === 'error')!;
  assert.equal(error.attrs.type, 'crashed');
  assert.match(error.attrs.message ?? '', /exited with code 3/);
});

test('no worker process outlives the run', () => {
  assert.deepEqual(bulk.leftovers, []);
});

test('-x: the first crash counts as the first failure and stops the run', async () => {
  // Even before its isolated retry: that runs only once nothing else does, and -x means stop now.
  const result = await runCli({ cwd: project.dir, pytestArgs: ['-x'] });
  assert.equal(result.code, 1, describeRun(result));
  const json = result.json!;
  assert.deepEqual(json.run.end, { kind: 'maxfail', failures: 1 });
  assert.equal(json.summary.crashed, 1);
  assert.equal(json.summary.failed, 0);
  assert.ok(json.summary.not_run! > 0, 'the rest did not run');
  assert.equal(json.summary.total, 13);
  assert.match(result.stdout, /^!+ stopping after 1 failures !+$/m);
  assert.deepEqual(result.leftovers, []);
});

test('workers that die before they are ready: the run gives up after 3 in a row, exit 3', async () => {
  const result = await runCli({ cwd: project.dir, env: { BULKHEAD_E2E_CRASH_AT_IMPORT: '1' }, timeoutMs: 45_000 });
  assert.equal(result.timedOut, false, 'it did not respawn forever');
  assert.equal(result.code, 3, describeRun(result));
  assert.match(
    result.stderr,
    /^bulkhead: error: 3 workers in a row died before running any test; the last, worker \d+ \(pid \d+\), exited with code 7/m,
  );
  assert.ok(result.maxChildren <= 2, `${result.maxChildren} workers at once`);
  assert.deepEqual(result.leftovers, []);
});
