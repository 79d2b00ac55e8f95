/**
 * Combined coverage on the `coverage` project, with Debian's python3 and its pytest-cov and
 * pytest-xdist packages: `bulkhead run -- --cov=covpkg ...` must print the same table, write the
 * same report files and leave the same `.coverage` data as `pytest -n 2 --cov=covpkg ...`, while
 * one worker is killed mid-run (the SIGKILL comes right after the only test that covers
 * covpkg.text.before_the_kill ran on that worker: its lines must survive), and `--cov-fail-under`
 * must decide the exit code as under pytest.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseEnv, copyFixture, describeRun, jsonOutcomes, runCli, spawnBounded, type SpawnResult } from '../support/cli.js';

const PYTHON = '/usr/bin/python3';
const PLUGINS = '/usr/lib/python3/dist-packages';
const skip = !existsSync(join(PLUGINS, 'pytest_cov')) || !existsSync(join(PLUGINS, 'xdist'))
  ? `Debian's python3-pytest-cov and python3-pytest-xdist are not installed (scripts/setup-machine.sh installs them)`
  : false;

const REPORTS = ['--cov=covpkg', '--cov-report=term-missing', '--cov-report=xml:cov.xml', '--cov-report=html:htmlcov'];

const reference = copyFixture('coverage');
const bulk = copyFixture('coverage');
after(() => {
  reference.cleanup();
  bulk.cleanup();
});

function pytestXdist(cwd: string, args: string[]): Promise<SpawnResult> {
  return spawnBounded(PYTHON, ['-m', 'pytest', '-n', '2', ...args], { cwd, env: baseEnv(), timeoutMs: 120_000 });
}

function bulkhead(cwd: string, args: string[], env: Record<string, string> = {}): ReturnType<typeof runCli> {
  return runCli({ cwd, options: ['--python', PYTHON], pytestArgs: args, env, junit: false, timeoutMs: 120_000 });
}

/** pytest-cov's block: from its "coverage:" separator to the line before the next section. */
function coverageBlock(stdout: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => / coverage: platform /.test(line));
  if (start < 0) return [];
  const end = lines.findIndex((line, index) => index > start && /^(=+ .* =+|=+)$/.test(line));
  return lines.slice(start, end < 0 ? undefined : end);
}

function dataReport(cwd: string): Promise<SpawnResult> {
  return spawnBounded(PYTHON, ['-m', 'coverage', 'report', '-m'], { cwd, env: baseEnv(), timeoutMs: 60_000 });
}

const normalizeXml = (text: string, dir: string): string => text.replace(/ timestamp="\d+"/, '').split(dir).join('<DIR>');
const normalizeHtml = (text: string): string => text.replace(/created at [^<]*/g, '');

test('the same table, report files and data as pytest -n 2 --cov, with a worker killed mid-run', { skip }, async () => {
  const plain = await pytestXdist(reference.dir, REPORTS);
  assert.equal(plain.code, 0, describeRun(plain));
  const killMarker = join(bulk.dir, 'killed-once');
  const ours = await bulkhead(bulk.dir, REPORTS, { COV_FIXTURE_KILL_ONCE: killMarker });
  assert.equal(ours.code, 0, describeRun(ours));
  // The kill really happened, on the worker that had just covered before_the_kill().
  assert.ok(existsSync(killMarker), describeRun(ours));
  assert.equal(jsonOutcomes(ours.json!)['tests/test_text.py::test_kills_its_worker'], 'flaky', describeRun(ours));

  const expected = coverageBlock(plain.stdout);
  assert.ok(expected.some((line) => /^TOTAL\s+32\s+9\s+72%/.test(line)), describeRun(plain));
  assert.deepEqual(coverageBlock(ours.stdout), expected, describeRun(ours));
  // Where pytest prints it: before the durations and the short summary, once.
  assert.equal(ours.stdout.split(' coverage: platform ').length, 2, describeRun(ours));

  assert.equal(normalizeXml(readFileSync(join(bulk.dir, 'cov.xml'), 'utf8'), bulk.dir), normalizeXml(readFileSync(join(reference.dir, 'cov.xml'), 'utf8'), reference.dir));
  for (const page of readdirSync(join(reference.dir, 'htmlcov')).filter((name) => name.endsWith('.html'))) {
    assert.equal(normalizeHtml(readFileSync(join(bulk.dir, 'htmlcov', page), 'utf8')), normalizeHtml(readFileSync(join(reference.dir, 'htmlcov', page), 'utf8')), page);
  }
  // The .coverage left behind is the combined one, and no worker's parallel file is left beside it.
  const [theirs, mine] = [await dataReport(reference.dir), await dataReport(bulk.dir)];
  assert.equal(mine.code, 0, describeRun(mine));
  assert.equal(mine.stdout, theirs.stdout);
  assert.deepEqual(readdirSync(bulk.dir).filter((name) => name.startsWith('.coverage')), ['.coverage']);
});

test('--cov-fail-under decides the exit code, with pytest-cov\'s line', { skip }, async () => {
  for (const [limit, code, line] of [
    ['90', 1, 'FAIL Required test coverage of 90% not reached. Total coverage: 71.88%'],
    ['70', 0, 'Required test coverage of 70% reached. Total coverage: 71.88%'],
  ] as const) {
    const args = ['--cov=covpkg', `--cov-fail-under=${limit}`, '-rA'];
    const plain = await pytestXdist(reference.dir, args);
    const ours = await bulkhead(bulk.dir, args);
    assert.equal(plain.code, code, describeRun(plain));
    assert.equal(ours.code, code, describeRun(ours));
    assert.deepEqual(coverageBlock(ours.stdout), coverageBlock(plain.stdout), describeRun(ours));
    assert.ok(coverageBlock(ours.stdout).includes(line), describeRun(ours));
    // After the table, before pytest's short test summary.
    assert.ok(ours.stdout.indexOf(line) < ours.stdout.indexOf('short test summary info'), describeRun(ours));
  }
});
