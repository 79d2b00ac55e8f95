/**
 * The pressure guard end to end, on `test/fixtures/pressure`: memory taken by something that is not
 * part of the run. A parent cgroup capped at 3 GiB holds two siblings: bulkhead (`--workers 2
 * --memory-budget 2G`, so the guard keeps 1 GiB of the 3 GiB limit and evicts under 512 MiB) and
 * a hog (hog.py). Once two tests (one per worker) hold their 400 MiB, the hog eats the parent down
 * to 300 MiB of room; the guard holds admission, then kills the worker of the most recently
 * started test; the hog sees the memory come back and leaves; the other tests pass, and the
 * evicted one runs again alone at the end and passes. The kernel's OOM killer is never reached, anywhere in the parent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PYTHON, baseEnv, copyFixture, describeRun, runCli, spawnBounded, tempDir, type JsonResults } from '../support/cli.js';
import { CappedCgroup, cgroupSkipReason } from '../support/memory-cgroup.js';

const MiB = 1024 ** 2;
const CAP_BYTES = 3072 * MiB;
const skip = cgroupSkipReason();

const project = copyFixture('pressure');
const scratch = tempDir('pressure');
let parent: CappedCgroup | null = null;

before(() => {
  if (skip === null) parent = CappedCgroup.create(`bulkhead-e2e-pressure-${process.pid}`, CAP_BYTES);
});

after(() => {
  parent?.remove();
  project.cleanup();
  scratch.cleanup();
});

test('a hog in a sibling cgroup: the guard evicts the newest test, which runs again alone and passes', { skip: skip ?? false }, async (t) => {
  const group = parent!;
  const run = group.child('run');
  const hogGroup = group.child('hog');
  const env = { PRESSURE_DIR: scratch.dir };
  const hog = hogGroup.wrap(PYTHON, [join(project.dir, 'hog.py'), group.path, scratch.dir, '300']);
  const [result, hogRun] = await Promise.all([
    runCli({
      cwd: project.dir,
      workers: 2,
      options: ['--memory-budget', '2G'],
      junit: false,
      env,
      wrap: (command, args) => run.wrap(command, args),
      timeoutMs: 120_000,
    }),
    spawnBounded(hog.command, hog.args, { cwd: project.dir, env: baseEnv(env), timeoutMs: 120_000 }),
  ]);
  const hogSaw = readFileSync(join(scratch.dir, 'hog.done'), 'utf8').trim();
  assert.equal(hogRun.code, 0, `${hogRun.stdout}\n${hogRun.stderr}`);
  assert.match(hogSaw, /^evicted;/, `${hogSaw}\n${describeRun(result)}`);
  assert.equal(result.code, 0, describeRun(result));
  assert.deepEqual(result.leftovers, []);

  // The guard said what it did: held admission, then killed the newest test's worker.
  assert.match(result.stdout, /^bulkhead: memory pressure: .* available, under the reserve of 1\.0 GiB: no new tests start until it eases$/m);
  const eviction = /^bulkhead: memory pressure: .* available, under half the reserve: killing worker \d+ \(pid \d+\) running (tests\/test_pressure\.py::test_\w+); the test will run again alone$/m.exec(result.stdout);
  assert.ok(eviction, describeRun(result));
  const evicted = eviction[1]!;
  const evictions = result.stdout.match(/under half the reserve: killing/g) ?? [];
  assert.equal(evictions.length, 1, 'one eviction was enough');
  t.diagnostic(`hog: ${hogSaw}`);
  for (const line of result.stdout.split('\n')) if (line.startsWith('bulkhead: memory pressure')) t.diagnostic(line);

  // Every test held its memory once, the evicted one twice: again last, alone, once the rest was done.
  const starts = readFileSync(join(scratch.dir, 'started.log'), 'utf8').trim().split('\n');
  const name = evicted.split('::')[1]!;
  assert.deepEqual([...starts].sort(), ['test_a', 'test_b', 'test_c', 'test_d', name].map((test) => `${test} started`).sort(), starts.join('\n'));
  assert.equal(starts.at(-1), `${name} started`, starts.join('\n'));

  const json = result.json as JsonResults;
  assert.equal(json.summary.passed, 4, JSON.stringify(json.summary));
  assert.equal(json.summary.crashed, 0);

  // Nothing reached the kernel's OOM killer: not at the parent's cap, not in either sibling.
  for (const cgroup of [group, run, hogGroup]) assert.equal(cgroup.oomKills(), 0, `oom_kill in ${cgroup.path}`);
  assert.ok(group.peakBytes() < CAP_BYTES, `parent peak ${group.peakBytes()}`);
});
