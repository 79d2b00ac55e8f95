/**
 * Collection errors, on the `collection-error` project (tests/test_broken.py raises at import):
 * pytest's exit code 2 and "Interrupted: 1 error during collection" with no test run; with
 * --continue-on-collection-errors the other tests run and the exit code is 1. Each case is
 * compared with plain pytest on the same project.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixture, describeRun, jsonOutcomes, runCli, runPytest, summaryLine, tempDir, type CliResult, type SpawnResult } from '../support/cli.js';
import { junitOutcomes } from '../support/junit-outcomes.js';
import { lineStartingWith, linesMatching, shortSummary } from '../support/output.js';

const ALL_IDS = [
  'tests/test_fine_a.py::test_a1',
  'tests/test_fine_a.py::test_a2',
  'tests/test_fine_a.py::test_a3_fails',
  'tests/test_fine_b.py::test_b1',
  'tests/test_fine_b.py::test_b_param[0]',
  'tests/test_fine_b.py::test_b_param[1]',
  'tests/test_fine_b.py::test_b_param[2]',
];

const project = copyFixture('collection-error');
after(() => project.cleanup());

/** The "!!!! ... !!!!" line of a run, without the '!' padding. */
function bangLine(output: string): string | null {
  const lines = linesMatching(output, /^!+ .* !+$/);
  return lines.length > 0 ? lines[lines.length - 1]!.replace(/^!+ | !+$/g, '') : null;
}

test('a collection error interrupts the run: exit 2, nothing runs, as pytest', async (t) => {
  let bulk: CliResult;
  let plain: SpawnResult & { junitXml: string | null };
  await t.test('runs', async () => {
    bulk = await runCli({ cwd: project.dir });
    plain = await runPytest({ cwd: project.dir });
  });
  await t.test('exit code 2', () => {
    assert.equal(plain.code, 2, describeRun(plain));
    assert.equal(bulk.code, 2, describeRun(bulk));
    assert.equal(bulk.json?.run.exitCode, 2);
  });
  await t.test('terminal: collected line, the ERROR section, Interrupted line, summary line', () => {
    assert.equal(lineStartingWith(bulk.stdout, 'collected '), 'collected 7 items / 1 error');
    assert.equal(lineStartingWith(bulk.stdout, 'collected '), lineStartingWith(plain.stdout, 'collected '));
    assert.match(bulk.stdout, /^_+ ERROR collecting tests\/test_broken\.py _+$/m);
    assert.match(bulk.stdout, /^E   RuntimeError: bulkhead-e2e: broken at import$/m);
    assert.equal(bangLine(bulk.stdout), 'Interrupted: 1 error during collection');
    assert.equal(bangLine(bulk.stdout), bangLine(plain.stdout));
    assert.deepEqual(shortSummary(bulk.stdout), ['ERROR tests/test_broken.py - RuntimeError: bulkhead-e2e: broken at import']);
    assert.equal(summaryLine(bulk.stdout), '1 error');
    assert.equal(summaryLine(bulk.stdout), summaryLine(plain.stdout));
  });
  await t.test('--json: no test ran, the collection error is listed', () => {
    const json = bulk.json!;
    assert.equal(json.run.end?.kind, 'collection_errors');
    assert.deepEqual(
      json.collectErrors.map((error) => error.nodeid),
      ['tests/test_broken.py'],
    );
    assert.match(json.collectErrors[0]!.longrepr, /broken at import/);
    assert.equal(json.summary.collectErrors, 1);
    for (const kind of ['passed', 'failed', 'error', 'skipped', 'crashed']) assert.equal(json.summary[kind], 0, kind);
    for (const entry of json.tests) {
      assert.equal(entry.outcome, 'not_run', entry.id);
      assert.deepEqual(entry.phases, [], `${entry.id} has phases: it ran`);
    }
  });
  await t.test("--junit equals pytest's --junitxml", () => {
    const outcomes = junitOutcomes(plain.junitXml!);
    assert.deepEqual(outcomes, { '::tests.test_broken': 'error' });
    assert.deepEqual(junitOutcomes(bulk.junitXml!), outcomes);
  });
});

test('--continue-on-collection-errors: the other tests run, exit 1, as pytest', async (t) => {
  const args = ['--continue-on-collection-errors'];
  let bulk: CliResult;
  let plain: SpawnResult & { junitXml: string | null };
  await t.test('runs', async () => {
    bulk = await runCli({ cwd: project.dir, pytestArgs: args });
    plain = await runPytest({ cwd: project.dir, pytestArgs: args });
  });
  await t.test('exit code 1', () => {
    assert.equal(plain.code, 1, describeRun(plain));
    assert.equal(bulk.code, 1, describeRun(bulk));
  });
  await t.test('every other test ran with its outcome', () => {
    const expected = Object.fromEntries(ALL_IDS.map((id) => [id, id.endsWith('_fails') ? 'failed' : 'passed']));
    assert.deepEqual(jsonOutcomes(bulk.json!), expected);
    assert.equal(bulk.json!.summary.collectErrors, 1);
  });
  await t.test('terminal and junit match pytest', () => {
    assert.equal(summaryLine(bulk.stdout), '1 failed, 6 passed, 1 error');
    assert.equal(summaryLine(bulk.stdout), summaryLine(plain.stdout));
    assert.equal(bangLine(bulk.stdout), null, 'no Interrupted line');
    assert.deepEqual([...shortSummary(bulk.stdout)].sort(), [...shortSummary(plain.stdout)].sort());
    assert.deepEqual(junitOutcomes(bulk.junitXml!), junitOutcomes(plain.junitXml!));
  });
});

test('-x with a collection error stops like pytest: exit 1, "stopping after 1 failures"', async () => {
  const bulk = await runCli({ cwd: project.dir, pytestArgs: ['-x'] });
  const plain = await runPytest({ cwd: project.dir, pytestArgs: ['-x'] });
  assert.equal(plain.code, 1, describeRun(plain));
  assert.equal(bangLine(plain.stdout), 'stopping after 1 failures');
  // Nothing ran, whatever the exit code.
  assert.equal(bulk.json?.summary.passed, 0, describeRun(bulk));
  assert.equal(bulk.json?.summary.failed, 0);
  assert.equal(summaryLine(bulk.stdout), summaryLine(plain.stdout));
  assert.equal(bangLine(bulk.stdout), bangLine(plain.stdout), describeRun(bulk));
  assert.equal(bulk.code, plain.code);
});

test('selecting only the good modules: no collection error, exit 1 for the one failure', async () => {
  const bulk = await runCli({ cwd: project.dir, pytestArgs: ['tests/test_fine_a.py', 'tests/test_fine_b.py'] });
  assert.equal(bulk.code, 1, describeRun(bulk));
  assert.equal(bulk.json?.summary.collectErrors, 0);
  assert.equal(bulk.json?.summary.passed, 6);
  assert.equal(bulk.json?.summary.failed, 1);
  assert.equal(summaryLine(bulk.stdout), '1 failed, 6 passed');
});

test('two workers that collect different tests: the run ends, exit 2, naming the difference', async () => {
  // Each worker parametrizes with its own pid: the second collection to finish cannot match the
  // first. The first starts running at once (it does not wait for the others), and a run whose
  // tests are all done retires a worker still collecting, so the tests wait (bounded) until both
  // workers have imported the module and a moment more, for the second collection to arrive.
  const scratch = tempDir('collection-mismatch');
  after(() => scratch.cleanup());
  writeFileSync(join(scratch.dir, 'pytest.ini'), '[pytest]\n');
  writeFileSync(
    join(scratch.dir, 'test_pid.py'),
    [
      'import glob, os, time',
      'import pytest',
      'HERE = os.path.dirname(os.path.abspath(__file__))',
      'open(os.path.join(HERE, f"imported-{os.getpid()}"), "w").close()',
      '',
      'def wait_for_both():',
      '    deadline = time.monotonic() + 30',
      '    while len(glob.glob(os.path.join(HERE, "imported-*"))) < 2 and time.monotonic() < deadline:',
      '        time.sleep(0.05)',
      '    time.sleep(1.0)',
      '',
      '@pytest.mark.parametrize("pid", [os.getpid()])',
      'def test_pid(pid):',
      '    wait_for_both()',
      '',
      'def test_same():',
      '    wait_for_both()',
      '',
    ].join('\n'),
  );
  const bulk = await runCli({ cwd: scratch.dir, workers: 2 });
  assert.equal(bulk.code, 2, describeRun(bulk));
  const output = `${bulk.stdout}\n${bulk.stderr}`;
  assert.match(output, /Different tests were collected by worker \d \(pid \d+\) \(2\) and worker \d \(pid \d+\) \(2\):/);
  assert.match(output, /only in worker \d \(pid \d+\):\n {4}test_pid\.py::test_pid\[\d+\]\n {2}only in worker \d \(pid \d+\):\n {4}test_pid\.py::test_pid\[\d+\]/);
  assert.match(output, /Collection must be deterministic/);
});
