/**
 * A real Django project on PostgreSQL (`django-postgres`) under pytest-django, on Debian's python3
 * with its pytest 7.2, Django, pytest-django and psycopg2. Its tests commit rows and count them,
 * so two workers on one test database fail. The server is started here, on a unix socket in a
 * temp folder, and stopped after.
 *
 * pytest -n 2 gives each xdist worker its own database (test_shop_gw0, test_shop_gw1); bulkhead
 * -w 2 must do the same. The control run, with worker identity off, shows the collision.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { baseEnv, copyFixture, describeRun, jsonOutcomes, runCli, spawnBounded, summaryLine, tempDir, type CliResult } from '../support/cli.js';
import { startPostgres, type Postgres } from '../support/postgres.js';

const DEBIAN_PYTHON = '/usr/bin/python3';
const IDS = Array.from({ length: 10 }, (_, n) => `tests/test_items.py::test_counts_only_its_own_rows[${n}]`);
const PYTEST_ARGS = ['-p', 'no:cacheprovider'];

function missingPackages(): string | null {
  const check = spawnSync(DEBIAN_PYTHON, ['-c', 'import django, pytest_django, psycopg2, xdist'], { encoding: 'utf8', timeout: 60_000 });
  if (check.status === 0) return null;
  return `Debian's python3 cannot import django, pytest_django, psycopg2 and xdist (bash scripts/setup-machine.sh installs them): ${(check.stderr || check.error?.message || '').trim().split('\n').pop()}`;
}

const missing = missingPackages();
let pg: Postgres = { ok: false, reason: missing ?? 'not started' };
const project = copyFixture('django-postgres');
const out = tempDir('bulkhead-e2e-django-out-');

before(() => {
  if (missing === null) pg = startPostgres();
});
after(() => {
  if (pg.ok) pg.stop();
  project.cleanup();
  out.cleanup();
});

function env(): Record<string, string> {
  return pg.ok ? { PGHOST: pg.socketDir, PGUSER: pg.user, DJANGO_OUT: out.dir } : {};
}

/** The test database each test ran on, by the pid of its worker. */
function databasesByPid(): Map<number, Set<string>> {
  const byPid = new Map<number, Set<string>>();
  for (const name of readdirSync(out.dir)) {
    const seen = JSON.parse(readFileSync(join(out.dir, name), 'utf8')) as { pid: number; database: string };
    byPid.set(seen.pid, (byPid.get(seen.pid) ?? new Set()).add(seen.database));
  }
  return byPid;
}

function clearOut(): void {
  for (const name of readdirSync(out.dir)) rmSync(join(out.dir, name));
}

function skipReason(): string | false {
  return pg.ok ? false : pg.reason;
}

test('sanity: pytest -n 2 passes, each xdist worker on its own test database', async (t) => {
  if (skipReason()) return t.skip(skipReason() as string);
  clearOut();
  const plain = await spawnBounded(DEBIAN_PYTHON, ['-m', 'pytest', '-n', '2', ...PYTEST_ARGS], { cwd: project.dir, env: baseEnv(env()), timeoutMs: 180_000 });
  assert.equal(plain.code, 0, describeRun(plain));
  assert.match(summaryLine(plain.stdout) ?? '', /^10 passed/);
  const byPid = databasesByPid();
  assert.deepEqual([...byPid.values()].flatMap((names) => [...names]).sort(), ['test_shop_gw0', 'test_shop_gw1']);
});

test('bulkhead -w 2: every test passes, each worker on its own test database, as with pytest -n 2', async (t) => {
  if (skipReason()) return t.skip(skipReason() as string);
  clearOut();
  const bulk: CliResult = await runCli({ cwd: project.dir, workers: 2, options: ['--python', DEBIAN_PYTHON], pytestArgs: PYTEST_ARGS, env: env(), timeoutMs: 180_000 });
  assert.equal(bulk.code, 0, describeRun(bulk));
  assert.deepEqual(jsonOutcomes(bulk.json!), Object.fromEntries(IDS.map((id) => [id, 'passed'])));
  const byPid = databasesByPid();
  assert.equal(byPid.size, 2, 'both workers ran tests');
  for (const names of byPid.values()) assert.equal(names.size, 1, 'a worker keeps its database');
  assert.deepEqual([...byPid.values()].flatMap((names) => [...names]).sort(), ['test_shop_gw0', 'test_shop_gw1']);
  assert.deepEqual(bulk.leftovers, []);
});

test('control, identity off: both workers share test_shop and the tests fail', async (t) => {
  if (skipReason()) return t.skip(skipReason() as string);
  clearOut();
  const bulk = await runCli({
    cwd: project.dir,
    workers: 2,
    options: ['--python', DEBIAN_PYTHON, '--no-xdist-identity'],
    pytestArgs: PYTEST_ARGS,
    env: env(),
    timeoutMs: 180_000,
  });
  assert.equal(bulk.code, 1, describeRun(bulk));
  const outcomes = Object.values(jsonOutcomes(bulk.json!));
  assert.equal(outcomes.length, 10);
  assert.ok(outcomes.some((outcome) => outcome !== 'passed'), describeRun(bulk));
  for (const names of databasesByPid().values()) assert.deepEqual([...names], ['test_shop']);
  assert.deepEqual(bulk.leftovers, []);
});
