/**
 * Test selection, on the `selection` project: -k, -m, paths and node ids, --pyargs of a package on
 * PYTHONPATH, and -x/--maxfail counted across workers. Each selection is compared with a model of
 * the selected tests' outcomes and with plain pytest on the same project and arguments.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { copyFixture, describeRun, jsonOutcomes, runCli, runPytest, summaryLine, type CliResult } from '../support/cli.js';
import { junitKeyOfNodeId, junitOutcomes } from '../support/junit-outcomes.js';
import { lineStartingWith, linesMatching } from '../support/output.js';

const A = 'tests/test_alpha.py';
const B = 'tests/test_beta.py';
const G = 'tests/sub/test_gamma.py';

/** Every test of the default collection (testpaths = tests), with its outcome when it runs. */
const ALL: Record<string, string> = {
  [`${A}::test_alpha_one`]: 'passed',
  [`${A}::test_alpha_two`]: 'passed',
  [`${A}::test_alpha_and_beta`]: 'passed',
  [`${A}::test_alpha_fails`]: 'failed',
  [`${A}::TestAlphaGroup::test_x`]: 'passed',
  [`${A}::TestAlphaGroup::test_y[1]`]: 'passed',
  [`${A}::TestAlphaGroup::test_y[2]`]: 'passed',
  [`${B}::test_beta_one`]: 'passed',
  [`${B}::test_beta_two_fails`]: 'failed',
  [`${B}::test_beta_skipped`]: 'skipped',
  [`${G}::test_gamma_param[1]`]: 'passed',
  [`${G}::test_gamma_param[2]`]: 'passed',
  [`${G}::test_gamma_param[3]`]: 'passed',
  [`${G}::test_gamma_fast`]: 'passed',
};

function only(ids: string[]): Record<string, string> {
  return Object.fromEntries(ids.map((id) => [id, ALL[id] ?? assert.fail(`no test ${id} in the model`)]));
}

const project = copyFixture('selection');
after(() => project.cleanup());

/**
 * Runs bulkhead and plain pytest with the same arguments and checks: the exit code, --json
 * against the model, --junit against pytest's and the model, the collected and summary lines.
 */
async function compareSelection(pytestArgs: string[], model: Record<string, string>, deselected: number, env: Record<string, string> = {}): Promise<CliResult> {
  // The two runs only read the project, so they run side by side.
  const [bulk, plain] = await Promise.all([runCli({ cwd: project.dir, pytestArgs, env }), runPytest({ cwd: project.dir, pytestArgs, env })]);
  const failed = Object.values(model).includes('failed');
  assert.equal(plain.code, failed ? 1 : 0, describeRun(plain));
  assert.equal(bulk.code, plain.code, describeRun(bulk));
  assert.ok(bulk.json, describeRun(bulk));
  assert.deepEqual(jsonOutcomes(bulk.json), model);
  assert.equal(bulk.json.summary.deselected, deselected);
  const junitModel = Object.fromEntries(Object.entries(model).map(([id, outcome]) => [junitKeyOfNodeId(id), outcome]));
  assert.deepEqual(junitOutcomes(plain.junitXml!), junitModel, 'the model matches plain pytest');
  assert.deepEqual(junitOutcomes(bulk.junitXml!), junitModel);
  assert.equal(lineStartingWith(bulk.stdout, 'collected '), lineStartingWith(plain.stdout, 'collected '));
  assert.equal(summaryLine(bulk.stdout), summaryLine(plain.stdout));
  assert.notEqual(summaryLine(bulk.stdout), null);
  return bulk;
}

test('no selection: the whole testpaths suite', async () => {
  await compareSelection([], ALL, 0);
});

test('-k "alpha and not beta"', async () => {
  const model = only(Object.keys(ALL).filter((id) => id.includes('alpha') && !id.includes('beta')));
  const bulk = await compareSelection(['-k', 'alpha and not beta'], model, 8);
  assert.equal(lineStartingWith(bulk.stdout, 'collected '), 'collected 14 items / 8 deselected / 6 selected');
});

test('-k on a class and a parameter id', async () => {
  const model = only([`${A}::TestAlphaGroup::test_y[2]`, `${G}::test_gamma_param[2]`]);
  await compareSelection(['-k', 'TestAlphaGroup and 2 or gamma_param and 2'], model, 12);
});

test('-m "slow or db"', async () => {
  const model = only([
    `${A}::test_alpha_two`,
    `${A}::test_alpha_fails`,
    `${A}::TestAlphaGroup::test_x`,
    `${B}::test_beta_one`,
    `${G}::test_gamma_param[1]`,
    `${G}::test_gamma_param[2]`,
    `${G}::test_gamma_param[3]`,
    `${G}::test_gamma_fast`,
  ]);
  await compareSelection(['-m', 'slow or db'], model, 6);
});

test('-m fast -k "not fails"', async () => {
  const model = only([`${A}::test_alpha_one`, `${G}::test_gamma_fast`]);
  await compareSelection(['-m', 'fast', '-k', 'not fails'], model, 12);
});

test('paths and node ids', async () => {
  const args = [B, `${A}::TestAlphaGroup`, `${G}::test_gamma_param[2]`];
  const model = only([
    `${B}::test_beta_one`,
    `${B}::test_beta_two_fails`,
    `${B}::test_beta_skipped`,
    `${A}::TestAlphaGroup::test_x`,
    `${A}::TestAlphaGroup::test_y[1]`,
    `${A}::TestAlphaGroup::test_y[2]`,
    `${G}::test_gamma_param[2]`,
  ]);
  await compareSelection(args, model, 0);
});

test('a directory path: tests/sub', async () => {
  await compareSelection(['tests/sub'], only(Object.keys(ALL).filter((id) => id.startsWith(G))), 0);
});

test('--pyargs of a package found through PYTHONPATH', async () => {
  const env = { PYTHONPATH: join(project.dir, 'pkgsrc') };
  const T = 'pkgsrc/tinypkg/test_tiny.py';
  const model = { [`${T}::test_answer`]: 'passed', [`${T}::test_tiny_fails`]: 'failed', [`${T}::test_tiny_slow`]: 'passed' };
  await compareSelection(['--pyargs', 'tinypkg'], model, 0, env);
  // -m works on --pyargs collections too.
  await compareSelection(['--pyargs', 'tinypkg', '-m', 'slow'], { [`${T}::test_tiny_slow`]: 'passed' }, 2, env);
});

/** The "!!!! ... !!!!" line, without its padding. */
function bangLine(output: string): string | null {
  const lines = linesMatching(output, /^!+ .* !+$/);
  return lines.length > 0 ? lines[lines.length - 1]!.replace(/^!+ | !+$/g, '') : null;
}

/**
 * maxfail/ has three modules, each a failing test and then eight passing 0.1 s tests (27 in all).
 * Once the limit is reached no new test may start: the tests running on other workers end, the
 * rest are not run. `maxRan` bounds what can have run by then (a worker that is slow to start
 * leaves the other to run a whole module before the next failure).
 */
async function checkMaxfail(args: string[], limit: number, maxRan: number): Promise<void> {
  const bulk = await runCli({ cwd: project.dir, pytestArgs: [...args, 'maxfail'] });
  const plain = await runPytest({ cwd: project.dir, pytestArgs: [...args, 'maxfail'] });
  assert.equal(plain.code, 1, describeRun(plain));
  assert.equal(bulk.code, 1, describeRun(bulk));
  const json = bulk.json!;
  assert.equal(json.tests.length, 27);
  assert.deepEqual(json.run.end, { kind: 'maxfail', failures: limit });
  assert.equal(bangLine(bulk.stdout), `stopping after ${limit} failures`);
  assert.equal(bangLine(bulk.stdout), bangLine(plain.stdout));
  const failed = json.tests.filter((entry) => entry.outcome === 'failed');
  // Failures are counted across workers: the limit, plus at most one that was already running.
  assert.ok(failed.length >= limit && failed.length <= limit + 1, `${failed.length} failed: ${failed.map((f) => f.id).join(', ')}`);
  for (const entry of failed) assert.match(entry.id, /::test_fail_\d$/);
  const ran = json.tests.filter((entry) => entry.outcome !== 'not_run');
  assert.ok(ran.length <= maxRan, `${ran.length} tests ran with a limit of ${limit}`);
  for (const entry of json.tests) {
    assert.ok(['passed', 'failed', 'not_run'].includes(entry.outcome), `${entry.id}: ${entry.outcome}`);
    if (entry.outcome === 'not_run') assert.equal(entry.reason, `stopping after ${limit} failures`);
  }
  assert.equal(json.summary.not_run, 27 - ran.length);
  // JUnit lists only tests that ran, as pytest's does.
  assert.deepEqual(Object.keys(junitOutcomes(bulk.junitXml!)).sort(), ran.map((entry) => junitKeyOfNodeId(entry.id)).sort());
}

test('-x stops the whole run after the first failure, on any worker', async () => {
  await checkMaxfail(['-x'], 1, 6);
});

test('--maxfail=2 counts failures across workers', async () => {
  await checkMaxfail(['--maxfail=2'], 2, 12);
});
