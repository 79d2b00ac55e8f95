/**
 * A project whose pytest.ini says `addopts = -n auto` (pytest-xdist), on the `xdist-addopts`
 * project, with Debian's xdist on PYTHONPATH: bulkhead's workers must run the tests themselves
 * (no xdist "gw" workers), say once that bulkhead replaces -n, and report correct results.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFixture, describeRun, jsonOutcomes, runCli, runPytest, summaryLine, type CliResult } from '../support/cli.js';
import { occurrences } from '../support/output.js';
import { xdistPythonPath, type XdistPath } from '../support/xdist.js';

const T = 'tests/test_under_bulkhead.py';
const EXPECTED: Record<string, string> = {
  [`${T}::test_an_xdist_worker_id`]: 'passed',
  [`${T}::test_in_a_bulkhead_worker`]: 'passed',
  ...Object.fromEntries([0, 1, 2, 3, 4, 5].map((n) => [`${T}::test_param[${n}]`, n < 5 ? 'passed' : 'failed'])),
  [`${T}::test_worker_id_fixture`]: 'passed',
};
const NOTICE = "bulkhead: pytest-xdist's -n auto is ignored: bulkhead runs its own workers (use --workers N)";

const xdist: XdistPath = xdistPythonPath();
const skip = xdist.ok ? false : xdist.reason;
const project = copyFixture('xdist-addopts');
const env = (): Record<string, string> => (xdist.ok ? { PYTHONPATH: xdist.pythonPath } : {});

after(() => {
  project.cleanup();
  if (xdist.ok) xdist.cleanup();
});

test('sanity: plain pytest with this PYTHONPATH really runs the suite under xdist', { skip }, async () => {
  const plain = await runPytest({ cwd: project.dir, env: env() });
  assert.match(plain.stdout, /^plugins: .*xdist-/m, describeRun(plain));
  // In xdist's gw workers the test that checks for bulkhead's workers fails (and the one real failure).
  assert.equal(plain.code, 1, describeRun(plain));
  assert.equal(summaryLine(plain.stdout), '2 failed, 7 passed');
});

test('under bulkhead: bulkhead workers run the tests, the notice is printed once, results are right', { skip }, async (t) => {
  let bulk: CliResult;
  await t.test('runs', async () => {
    bulk = await runCli({ cwd: project.dir, env: env() });
  });
  await t.test('exit code 1 (the one real failure) and per-test outcomes', () => {
    assert.equal(bulk.code, 1, describeRun(bulk));
    assert.deepEqual(jsonOutcomes(bulk.json!), EXPECTED);
    assert.equal(summaryLine(bulk.stdout), '1 failed, 8 passed');
    assert.deepEqual([...new Set(bulk.json!.tests.map((entry) => entry.worker))].every((w) => w === 1 || w === 2), true);
  });
  await t.test('xdist is loaded, and the "bulkhead replaces -n" notice appears exactly once', () => {
    assert.match(bulk.stdout, /^plugins: .*xdist-/m);
    assert.equal(occurrences(bulk.stdout + bulk.stderr, "pytest-xdist's -n"), 1, describeRun(bulk));
    assert.ok(bulk.stdout.split('\n').some((line) => line.trimEnd() === NOTICE), describeRun(bulk));
    assert.doesNotMatch(bulk.stdout, /\bgw\d+\b/, 'no xdist gateway worker output');
  });
  await t.test('no process outlived the run', () => {
    assert.deepEqual(bulk.leftovers, []);
  });
});

test('-n 3 on the command line: the notice names it, once; results are the same', { skip }, async () => {
  const bulk = await runCli({ cwd: project.dir, env: env(), pytestArgs: ['-n', '3'] });
  assert.equal(bulk.code, 1, describeRun(bulk));
  assert.deepEqual(jsonOutcomes(bulk.json!), EXPECTED);
  assert.equal(occurrences(bulk.stdout + bulk.stderr, "pytest-xdist's -n"), 1, describeRun(bulk));
  assert.match(bulk.stdout, /^bulkhead: pytest-xdist's -n 3 is ignored/m);
});
