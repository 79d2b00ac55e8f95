/**
 * Worker identity as pytest-xdist gives it, on the `xdist-identity` project (its conftest seeds
 * as pytest-randomly does; Debian 12 does not package pytest-randomly): PYTEST_XDIST_WORKER=gwN,
 * PYTEST_XDIST_WORKER_COUNT, PYTEST_XDIST_TESTRUNUID, the `worker_id` and `testrun_uid` fixtures
 * with and without xdist installed, and one seed in every worker. The control runs switch
 * identity off (--no-xdist-identity) and show what goes wrong without it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixture, describeRun, runCli, tempDir, type CliResult } from '../support/cli.js';
import { linesMatching } from '../support/output.js';
import { xdistPythonPath, type XdistPath } from '../support/xdist.js';

interface Seen {
  pid: number;
  env: Record<'PYTEST_XDIST_WORKER' | 'PYTEST_XDIST_WORKER_COUNT' | 'PYTEST_XDIST_TESTRUNUID', string | null>;
  worker_id: string;
  testrun_uid: string;
  workerinput: boolean;
  seed: number;
  random: number;
}

const project = copyFixture('xdist-identity');
const out = tempDir('bulkhead-e2e-identity-out-');
const xdist: XdistPath = xdistPythonPath();
after(() => {
  project.cleanup();
  out.cleanup();
  if (xdist.ok) xdist.cleanup();
});

async function run(options: string[], pytestArgs: string[] = [], env: Record<string, string> = {}): Promise<{ bulk: CliResult; seen: Seen[] }> {
  for (const name of readdirSync(out.dir)) rmSync(join(out.dir, name));
  const bulk = await runCli({ cwd: project.dir, workers: 2, options, pytestArgs: ['-p', 'no:cacheprovider', ...pytestArgs], env: { IDENTITY_OUT: out.dir, ...env } });
  const seen = readdirSync(out.dir).map((name) => JSON.parse(readFileSync(join(out.dir, name), 'utf8')) as Seen);
  return { bulk, seen };
}

/** The seeds each header line names: pytest-randomly prints `Using --randomly-seed=N`. */
function headerSeeds(stdout: string): string[] {
  return linesMatching(stdout, /^Using --randomly-seed=/).map((line) => line.trim().split('=')[1]!);
}

function assertIdentity(bulk: CliResult, seen: Seen[]): void {
  assert.equal(bulk.code, 0, describeRun(bulk));
  assert.equal(seen.length, 8);
  const byPid = new Map<number, string>();
  for (const s of seen) {
    assert.match(s.env.PYTEST_XDIST_WORKER ?? '', /^gw[01]$/, JSON.stringify(s));
    assert.equal(s.worker_id, s.env.PYTEST_XDIST_WORKER, 'the worker_id fixture says what the variable says');
    assert.equal(s.env.PYTEST_XDIST_WORKER_COUNT, '2');
    assert.equal(s.workerinput, true);
    byPid.set(s.pid, s.worker_id);
  }
  assert.equal(byPid.size, 2, 'both workers ran tests');
  assert.equal(new Set(byPid.values()).size, 2, 'two workers, two ids');
  const uids = new Set(seen.flatMap((s) => [s.testrun_uid, s.env.PYTEST_XDIST_TESTRUNUID]));
  assert.equal(uids.size, 1, 'one testrun_uid for the run, fixture and variable alike');
  assert.match([...uids][0]!, /^[0-9a-f]{32}$/);
}

test('without xdist installed: gw0 and gw1, worker_id and testrun_uid, one seed printed once', async () => {
  const { bulk, seen } = await run([]);
  assertIdentity(bulk, seen);
  const seeds = new Set(seen.map((s) => s.seed));
  assert.equal(seeds.size, 1, `one seed in every worker: ${[...seeds].join(', ')}`);
  const printed = headerSeeds(bulk.stdout);
  assert.deepEqual(printed, [String([...seeds][0])], describeRun(bulk));
  assert.equal(new Set(seen.map((s) => s.random)).size, 1, 'every test reseeded with the one seed');

  await test('--randomly-seed=N reproduces the run: the same seed and the same random numbers', async () => {
    const again = await run([], [`--randomly-seed=${printed[0]}`]);
    assert.equal(again.bulk.code, 0, describeRun(again.bulk));
    assert.deepEqual(headerSeeds(again.bulk.stdout), printed);
    assert.deepEqual([...new Set(again.seen.map((s) => s.random))], [seen[0]!.random]);
    // The order of the run's tests is the shuffled order, the same as before.
    assert.deepEqual(
      again.bulk.json!.tests.map((t) => t.id),
      bulk.json!.tests.map((t) => t.id),
    );
  });
});

test('with xdist installed: its own fixtures read the same identity', { skip: xdist.ok ? false : xdist.reason }, async () => {
  const { bulk, seen } = await run([], [], xdist.ok ? { PYTHONPATH: xdist.pythonPath } : {});
  assert.match(bulk.stdout, /^plugins: .*xdist-/m, describeRun(bulk));
  assertIdentity(bulk, seen);
  assert.equal(new Set(seen.map((s) => s.seed)).size, 1);
});

test('control, identity off: no variables, worker_id "master", and each worker draws its own seed', async () => {
  const { bulk, seen } = await run(['--no-xdist-identity'], ['--randomly-dont-reorganize']);
  assert.equal(bulk.code, 0, describeRun(bulk));
  assert.equal(seen.length, 8);
  for (const s of seen) {
    assert.deepEqual(s.env, { PYTEST_XDIST_WORKER: null, PYTEST_XDIST_WORKER_COUNT: null, PYTEST_XDIST_TESTRUNUID: null });
    assert.equal(s.worker_id, 'master');
    assert.equal(s.workerinput, false);
  }
  assert.equal(new Set(seen.map((s) => s.pid)).size, 2, 'both workers ran tests');
  assert.equal(new Set(seen.map((s) => s.seed)).size, 2, 'two workers, two seeds');
});

test('control, identity off and tests shuffled: the workers disagree on the order and the run stops', async () => {
  const { bulk } = await run(['--no-xdist-identity']);
  assert.notEqual(bulk.code, 0, describeRun(bulk));
  assert.match(bulk.stdout + bulk.stderr, /same tests in a different order/, describeRun(bulk));
});

// pytest-random-order is packaged by Debian: its workers read the seed from workerinput. The setup
// script unpacks it to its own folder (installed, it would load into every Debian pytest run).
const RANDOM_ORDER_PATH = '/opt/bulkhead-test/random-order/usr/lib/python3/dist-packages';
const randomOrderSkip = ((): string | false => {
  const check = spawnSync('/usr/bin/python3', ['-c', 'import random_order'], { timeout: 60_000, env: { ...process.env, PYTHONPATH: RANDOM_ORDER_PATH } });
  return check.status === 0 ? false : `Debian's pytest-random-order is not in ${RANDOM_ORDER_PATH} (bash scripts/setup-machine.sh unpacks it there)`;
})();

test('pytest-random-order on Debian python: one seed, printed once; identity off, the workers disagree', { skip: randomOrderSkip }, async () => {
  // random-order needs the cache plugin (its --ff/--lf handling): no `-p no:cacheprovider` here.
  const args = ['--random-order', '--randomly-dont-reorganize'];
  const options = ['--python', '/usr/bin/python3'];
  for (const name of readdirSync(out.dir)) rmSync(join(out.dir, name));
  const bulk = await runCli({ cwd: project.dir, workers: 2, options, pytestArgs: args, env: { IDENTITY_OUT: out.dir, PYTHONPATH: RANDOM_ORDER_PATH } });
  assert.equal(bulk.code, 0, describeRun(bulk));
  assert.equal(linesMatching(bulk.stdout, /^Using --random-order-seed=\d+$/).length, 1, describeRun(bulk));
  const control = await runCli({ cwd: project.dir, workers: 2, options: [...options, '--no-xdist-identity'], pytestArgs: args, env: { IDENTITY_OUT: out.dir, PYTHONPATH: RANDOM_ORDER_PATH } });
  assert.notEqual(control.code, 0, describeRun(control));
  assert.match(control.stdout + control.stderr, /same tests in a different order/, describeRun(control));
});
