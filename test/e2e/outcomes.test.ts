/**
 * Every pytest outcome, on the `outcomes` fixture project: bulkhead's --json and --junit against a
 * model of what each test must end as, and against plain pytest's own --junitxml and terminal
 * output on the same project.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  copyFixture,
  describeRun,
  jsonOutcomes,
  runCli,
  runPytest,
  summaryLine,
  type CliResult,
  type SpawnResult,
} from '../support/cli.js';
import { junitKeyOfNodeId, junitOutcomes } from '../support/junit-outcomes.js';
import { lineStartingWith, section, shortSummary } from '../support/output.js';

const M = 'tests/test_outcomes.py';

/** The model: every collected test and its one final outcome in --json. */
const EXPECTED: Record<string, string> = {
  [`${M}::test_pass`]: 'passed',
  [`${M}::test_fail`]: 'failed',
  [`${M}::test_skip_with_reason`]: 'skipped',
  [`${M}::test_skip_marker`]: 'skipped',
  [`${M}::test_skipif_true`]: 'skipped',
  [`${M}::test_skipif_false`]: 'passed',
  [`${M}::test_xfail`]: 'xfailed',
  [`${M}::test_xfail_imperative`]: 'xfailed',
  [`${M}::test_xpass`]: 'xpassed',
  [`${M}::test_xpass_strict`]: 'failed',
  [`${M}::test_error_in_setup`]: 'error',
  [`${M}::test_error_in_teardown`]: 'error',
  [`${M}::test_failure_and_teardown_error`]: 'failed',
  [`${M}::test_warns`]: 'passed',
  [`${M}::test_output_then_fail`]: 'failed',
  [`${M}::test_param[1]`]: 'passed',
  [`${M}::test_param[2]`]: 'failed',
  [`${M}::test_param[3]`]: 'passed',
  [`${M}::test_param_odd_ids[a b]`]: 'passed',
  [`${M}::test_param_odd_ids[x::y]`]: 'passed',
  [`${M}::test_param_odd_ids[\\xfcn\\xef]`]: 'passed',
  [`${M}::TestGroup::test_method_pass`]: 'passed',
  [`${M}::TestGroup::test_method_fail`]: 'failed',
  [`${M}::TestGroup::test_method_marked`]: 'passed',
  'tests/test_plain.py::test_one': 'passed',
  'tests/test_plain.py::test_two': 'passed',
  'tests/test_plain.py::test_three': 'passed',
};

/** How JUnit XML (pytest's and bulkhead's alike) must show each test where it differs from --json. */
const JUNIT_DIFFERENT: Record<string, string> = {
  [`${M}::test_xpass`]: 'passed', // a non-strict XPASS is a pass in JUnit
  [`${M}::test_failure_and_teardown_error`]: 'failed+error', // pytest writes two testcases
};

function expectedJunit(): Record<string, string> {
  const model: Record<string, string> = { '::tests.test_importorskip': 'skipped' };
  for (const [id, outcome] of Object.entries(EXPECTED)) model[junitKeyOfNodeId(id)] = JUNIT_DIFFERENT[id] ?? outcome;
  return model;
}

const project = copyFixture('outcomes');
let bulk: CliResult;
let plain: SpawnResult & { junitXml: string | null };

before(async () => {
  bulk = await runCli({ cwd: project.dir });
  plain = await runPytest({ cwd: project.dir });
});

after(() => project.cleanup());

test('exit code is 1 (tests failed), as plain pytest', () => {
  assert.equal(plain.code, 1, describeRun(plain));
  assert.equal(bulk.code, 1, describeRun(bulk));
  assert.equal(bulk.timedOut, false);
  assert.equal(bulk.json?.run.exitCode, 1);
  assert.equal(bulk.json?.run.end?.kind, 'completed');
});

test('--json gives every test the outcome of the model', () => {
  assert.ok(bulk.json, describeRun(bulk));
  assert.equal(bulk.json.format, 'bulkhead-results');
  assert.equal(bulk.json.version, 1);
  assert.deepEqual(jsonOutcomes(bulk.json), EXPECTED);
  // Collection order is pytest's.
  assert.deepEqual(
    bulk.json.tests.map((t) => t.id),
    Object.keys(EXPECTED),
  );
});

test('--json summary counts add up to the model', () => {
  const summary = bulk.json!.summary;
  const counts: Record<string, number> = {};
  for (const outcome of Object.values(EXPECTED)) counts[outcome] = (counts[outcome] ?? 0) + 1;
  assert.equal(summary.total, Object.keys(EXPECTED).length);
  for (const kind of ['passed', 'failed', 'error', 'skipped', 'xfailed', 'xpassed', 'crashed', 'not_run']) {
    assert.equal(summary[kind], counts[kind] ?? 0, `summary.${kind}`);
  }
  assert.equal(summary.collectErrors, 0);
  assert.equal(summary.deselected, 0);
  assert.equal(summary.warnings, 1);
});

test('every test that ran has its phases and a worker of the pool', () => {
  for (const t of bulk.json!.tests) {
    assert.ok(t.worker === 1 || t.worker === 2, `${t.id} ran on worker ${t.worker}`);
    const whens = t.phases.map((phase) => phase.when);
    // A setup error ends the test at setup; every other test has setup, call and teardown.
    const expected = t.id.endsWith('::test_error_in_setup') ? ['setup', 'teardown'] : ['setup', 'call', 'teardown'];
    if (t.outcome === 'skipped') {
      assert.equal(whens[0], 'setup', `${t.id}: ${whens}`);
      continue;
    }
    assert.deepEqual(whens, expected, t.id);
  }
});

test('--json carries xfail reasons, failure tracebacks and captured output', () => {
  const byId = new Map(bulk.json!.tests.map((t) => [t.id, t]));
  assert.equal(byId.get(`${M}::test_xfail`)?.reason, 'known bug 17');
  assert.equal(byId.get(`${M}::test_xfail_imperative`)?.reason, 'imperative xfail');
  const failed = byId.get(`${M}::test_fail`)!;
  const call = failed.phases.find((phase) => phase.when === 'call')!;
  assert.equal(call.outcome, 'failed');
  assert.match(call.longrepr, /arithmetic is broken/);
  const output = byId.get(`${M}::test_output_then_fail`)!.phases.find((phase) => phase.when === 'call')!;
  assert.deepEqual(
    output.sections.map(([title, content]) => [title, content.trim()]),
    [
      ['Captured stdout call', 'captured stdout line'],
      ['Captured stderr call', 'captured stderr line'],
    ],
  );
  const setupError = byId.get(`${M}::test_error_in_setup`)!.phases.find((phase) => phase.when === 'setup')!;
  assert.equal(setupError.outcome, 'failed');
  assert.match(setupError.longrepr, /setup broke/);
  const teardownError = byId.get(`${M}::test_failure_and_teardown_error`)!.phases.find((phase) => phase.when === 'teardown')!;
  assert.match(teardownError.longrepr, /teardown broke/);
});

test('--json skip reasons are the bare reason, as xfail reasons are (and as pytest prints them)', () => {
  const byId = new Map(bulk.json!.tests.map((t) => [t.id, t]));
  assert.equal(byId.get(`${M}::test_skip_with_reason`)?.reason, 'not on this machine');
  assert.equal(byId.get(`${M}::test_skip_marker`)?.reason, 'skipped by marker');
  assert.equal(byId.get(`${M}::test_skipif_true`)?.reason, 'skipif: linux');
});

test("--junit outcomes equal plain pytest's --junitxml and the model", () => {
  assert.ok(plain.junitXml, describeRun(plain));
  assert.ok(bulk.junitXml, describeRun(bulk));
  const pytestOutcomes = junitOutcomes(plain.junitXml);
  assert.deepEqual(pytestOutcomes, expectedJunit(), 'the model matches plain pytest');
  assert.deepEqual(junitOutcomes(bulk.junitXml), pytestOutcomes);
});

test("the final summary line equals pytest's except the time", () => {
  const expected = '6 failed, 14 passed, 4 skipped, 2 xfailed, 1 xpassed, 1 warning, 3 errors';
  assert.equal(summaryLine(plain.stdout), expected, describeRun(plain));
  assert.equal(summaryLine(bulk.stdout), expected, describeRun(bulk));
});

test("short test summary info lists pytest's FAILED and ERROR lines", () => {
  const lines = shortSummary(bulk.stdout);
  assert.ok(lines.length > 0, describeRun(bulk));
  assert.deepEqual([...lines].sort(), [...shortSummary(plain.stdout)].sort());
});

test('header and section lines are those of pytest', () => {
  assert.equal(lineStartingWith(bulk.stdout, 'rootdir: '), lineStartingWith(plain.stdout, 'rootdir: '));
  assert.equal(lineStartingWith(bulk.stdout, 'configfile: '), 'configfile: pytest.ini');
  assert.match(bulk.stdout, /^bulkhead: 2 workers \[27 items\]$/m);
  const warnings = section(bulk.stdout, 'warnings summary');
  assert.ok(warnings?.includes('tests/test_outcomes.py::test_warns'), describeRun(bulk));
  assert.ok(warnings?.includes('UserWarning: bulkhead-e2e custom warning'));
  const failures = section(bulk.stdout, 'FAILURES') ?? '';
  assert.match(failures, /^_+ TestGroup\.test_method_fail _+$/m);
  assert.match(failures, /^-+ Captured stdout call -+$/m);
  const errors = section(bulk.stdout, 'ERRORS') ?? '';
  assert.match(errors, /^_+ ERROR at setup of test_error_in_setup _+$/m);
  assert.match(errors, /^_+ ERROR at teardown of test_error_in_teardown _+$/m);
  assert.equal(bulk.stderr, '', 'nothing on stderr');
});

test("the 'collected' line equals pytest's (it counts the module skipped at collection)", () => {
  assert.equal(lineStartingWith(plain.stdout, 'collected '), 'collected 27 items / 1 skipped');
  assert.equal(lineStartingWith(bulk.stdout, 'collected '), lineStartingWith(plain.stdout, 'collected '));
});

test("-v: one line per test with pytest's word for it", async () => {
  const words = /(PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR)/;
  const [verbose, plainVerbose] = await Promise.all([runCli({ cwd: project.dir, pytestArgs: ['-v'] }), runPytest({ cwd: project.dir, pytestArgs: ['-v'] })]);
  assert.equal(verbose.code, 1, describeRun(verbose));
  // pytest: "tests/x.py::test_y PASSED    [ 3%]" (a reason in parentheses may follow SKIPPED,
  // XFAIL or XPASS); bulkhead (xdist style): "[w1] [  3%] PASSED tests/x.py::test_y".
  const expected = plainVerbose.stdout
    .split('\n')
    .map((line) => new RegExp(`^(\\S+::.*?) ${words.source}(?: \\(.*\\))?\\s+\\[\\s*\\d+%\\]$`).exec(line.trimEnd()))
    .filter((match) => match !== null)
    .map((match) => `${match[2]} ${match[1]}`)
    .sort();
  const actual = verbose.stdout
    .split('\n')
    .map((line) => new RegExp(`^\\[w\\d+\\] \\[\\s*\\d+%\\] ${words.source} (\\S+::.*)$`).exec(line.trimEnd()))
    .filter((match) => match !== null)
    .map((match) => `${match[1]} ${match[2]}`)
    .sort();
  assert.ok(expected.length >= 27, `pytest -v printed ${expected.length} result lines:\n${plainVerbose.stdout}`);
  assert.deepEqual(actual, expected);
  assert.equal(summaryLine(verbose.stdout), summaryLine(plainVerbose.stdout));
});
