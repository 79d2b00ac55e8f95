/**
 * No false reds from memory, on `test/fixtures/heavy`, every run inside a cgroup capped at 3 GiB
 * that this file makes and removes (so the effective limit is 3 GiB and the budget 2 GiB):
 *
 * - a test that needs 2.4 GiB, most of the cgroup and more than the budget: plain pytest passes it
 *   there; bulkhead with two workers passes it too (alone, with all the memory there is, if need
 *   be), and the run is green; with history it runs alone from the start and simply passes;
 * - two tests of 1.3 GiB each that fit one at a time but not together: on a cold run (no history)
 *   they are admitted side by side and collide at the budget. The run is green: what ran out of
 *   memory only under load passed alone and is reported flaky, with the limit it hit, its peak and
 *   the test beside it. The next run, with history, never runs them together. `--fail-on-flaky`
 *   turns the cold run red.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PYTHON, baseEnv, copyFixture, describeRun, runCli, spawnBounded, type CliResult } from '../support/cli.js';
import { CappedCgroup, cgroupSkipReason } from '../support/memory-cgroup.js';
import { maxOverlap, readIntervals } from '../support/overlap.js';

const GiB = 1024 ** 3;
const CAP_BYTES = 3 * GiB;
const MOST = 'tests/test_heavy.py::test_needs_most_of_the_machine';
const FIRST = 'tests/test_pair_first.py::test_pair_first';
const SECOND = 'tests/test_pair_second.py::test_pair_second';
const LIGHT = 'tests/test_heavy.py::test_light';
/** The pair's two modules: each a worker's chunk, so the pair starts side by side. */
const PAIR = ['tests/test_pair_first.py', 'tests/test_pair_second.py'];
const ENV = { HEAVY_MOST_MIB: '2458', HEAVY_PAIR_MIB: '1331', HEAVY_HOLD_SECONDS: '2' };

const skip = cgroupSkipReason();
const project = copyFixture('heavy');
let cgroup: CappedCgroup | null = null;
before(() => {
  if (skip === null) cgroup = CappedCgroup.create(`bulkhead-e2e-load-flaky-${process.pid}`, CAP_BYTES);
});
after(() => {
  cgroup?.remove();
  project.cleanup();
});

interface HeavyTest {
  id: string;
  outcome: string;
  cause: { kind: string; limit?: string; limitBytes?: number | null; peakBytes?: number | null } | null;
  flaky: string | null;
  beside: Array<{ worker: number; testId: string; memoryBytes: number | null }>;
  peakMemoryBytes: number | null;
}

function testsOf(result: CliResult): Map<string, HeavyTest> {
  return new Map(((result.json?.tests ?? []) as unknown as HeavyTest[]).map((entry) => [entry.id, entry]));
}

/** bulkhead inside the capped cgroup; the kernel's OOM killer never strikes at the cgroup itself. */
async function bulkhead(pytestArgs: string[], options: string[] = [], log?: string): Promise<CliResult> {
  const group = cgroup!;
  const before = group.oomKills();
  const result = await runCli({
    cwd: project.dir,
    workers: 2,
    options,
    pytestArgs,
    env: { ...ENV, ...(log ? { HEAVY_LOG: log } : {}) },
    timeoutMs: 180_000,
    wrap: (command, args) => group.wrap(command, args),
  });
  // Every OOM kill happened at bulkhead's own limits (the run's budget, a worker's cap), never at
  // the cgroup's cap (which counts only kills for its own limit).
  assert.equal(group.oomKills() - before, 0, `OOM kills at the 3 GiB cap itself:\n${describeRun(result)}`);
  assert.deepEqual(result.leftovers, []);
  return result;
}

test('a test that needs most of the cgroup: plain pytest passes it there', { skip: skip ?? false }, async () => {
  const { command, args } = cgroup!.wrap(PYTHON, ['-m', 'pytest', '-p', 'no:cacheprovider', '-q', MOST]);
  const result = await spawnBounded(command, args, { cwd: project.dir, env: baseEnv(ENV), timeoutMs: 120_000 });
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /1 passed/);
});

test('... and bulkhead with two workers passes it too, and the run is green', { skip: skip ?? false }, async () => {
  rmSync(join(project.dir, '.bulkhead'), { recursive: true, force: true });
  const cold = await bulkhead([MOST, LIGHT]);
  assert.equal(cold.code, 0, describeRun(cold));
  assert.match(cold.stdout, /bulkhead: memory: budget 2\.0 GiB of 3\.0 GiB/);
  const most = testsOf(cold).get(MOST)!;
  // Cold, it may first run beside the other worker within the budget, and run out; alone, it may
  // have all there is, and passes. Either way: never a failure.
  assert.ok(most.outcome === 'passed' || most.outcome === 'flaky', JSON.stringify(most));
  if (most.outcome === 'flaky') {
    assert.equal(most.cause?.kind, 'oom');
    assert.equal(most.cause?.limit, 'run_budget');
    assert.equal(most.cause?.limitBytes, 2 * GiB);
  }
  assert.ok((most.peakMemoryBytes ?? 0) > 2.3 * GiB, `its peak alone: ${most.peakMemoryBytes}`);
  // With history it is known to need more than the budget: it runs alone from the start and passes.
  const warm = await bulkhead([MOST, LIGHT]);
  assert.equal(warm.code, 0, describeRun(warm));
  assert.equal(testsOf(warm).get(MOST)!.outcome, 'passed', describeRun(warm));
  assert.match(warm.stdout, /test_needs_most_of_the_machine is expected to need 2\.\d GiB, more than the memory budget of 2\.0 GiB: it will run alone/);
});

test('two heavy tests collide on a cold run: green, the one that ran out is flaky and says why', { skip: skip ?? false }, async () => {
  rmSync(join(project.dir, '.bulkhead'), { recursive: true, force: true });
  const cold = await bulkhead(PAIR);
  assert.equal(cold.code, 0, describeRun(cold));
  const tests = testsOf(cold);
  const flaky = [FIRST, SECOND].filter((id) => tests.get(id)!.outcome === 'flaky');
  assert.ok(flaky.length >= 1, `a collision: ${describeRun(cold)}`);
  for (const [id, entry] of tests) assert.ok(['passed', 'flaky'].includes(entry.outcome), id);
  for (const id of flaky) {
    const entry = tests.get(id)!;
    const other = id === FIRST ? SECOND : FIRST;
    assert.equal(entry.flaky, 'load', id);
    assert.equal(entry.cause?.kind, 'oom', id);
    assert.equal(entry.cause?.limit, 'run_budget', `${id}: ${JSON.stringify(entry.cause)}`);
    assert.equal(entry.cause?.limitBytes, 2 * GiB, id);
    assert.deepEqual(entry.beside.map((beside) => beside.testId), [other], `${id}: what ran beside it`);
    assert.ok((entry.peakMemoryBytes ?? 0) > 1.25 * GiB, `${id}: its peak alone, ${entry.peakMemoryBytes}`);
    // Loudly: its own section, and the short summary, with the limit and what ran beside it.
    assert.match(cold.stdout, new RegExp(`^FLAKY ${id.replace(/[.[\]]/g, '\\$&')}$`, 'm'));
    assert.match(cold.stdout, /ran out of memory: over the run's memory budget of 2\.0 GiB, shared with the tests beside it \(peak \d/);
    assert.match(cold.stdout, new RegExp(`beside it: worker \\d+ running ${other.replace(/[.[\]]/g, '\\$&')}`));
  }
  assert.match(cold.stdout, /={3,} flaky: failed only under parallel load, passed alone =+/);
  assert.match(cold.stdout, new RegExp(`\\b${flaky.length} flaky\\b`));
  // JUnit: the passing testcase, with the first attempt in Surefire's <flakyError>.
  for (const id of flaky) {
    const [file, name] = id.split('::') as [string, string];
    const classname = file.replace(/\.py$/, '').replace(/\//g, '\\.');
    assert.match(cold.junitXml ?? '', new RegExp(`<testcase classname="${classname}" name="${name}" time="[\\d.]+"><flakyError message="worker \\d+ \\(pid \\d+\\) ran out of memory`));
  }
});

test('the next run, with history, never runs the pair together', { skip: skip ?? false }, async () => {
  const log = join(project.dir, 'warm.log');
  const warm = await bulkhead(PAIR, [], log);
  assert.equal(warm.code, 0, describeRun(warm));
  for (const [id, entry] of testsOf(warm)) assert.equal(entry.outcome, 'passed', id);
  assert.equal(maxOverlap(readIntervals(log)), 1, 'the pair ran one at a time');
});

test('--fail-on-flaky turns the cold run red', { skip: skip ?? false }, async () => {
  rmSync(join(project.dir, '.bulkhead'), { recursive: true, force: true });
  const cold = await bulkhead(PAIR, ['--fail-on-flaky']);
  assert.equal(cold.code, 1, describeRun(cold));
  assert.ok([FIRST, SECOND].some((id) => testsOf(cold).get(id)!.outcome === 'flaky'), describeRun(cold));
});
