/**
 * Memory control end to end, on `test/fixtures/memory`: a runaway allocation is killed at its
 * worker's cap and reported `oom` naming the test while every other test passes; each test's
 * peak is measured. Both rungs of the ladder that this machine has: the cgroup v1 memory
 * controller, and RLIMIT_DATA + the RSS watchdog (forced with --memory-control rlimit).
 * Every run is capped (--worker-memory-max 300M, --memory-budget 1G), and where this process may
 * make memory cgroups it also runs inside one capped at 2.5 GiB: the runaway is stopped at its
 * worker's cap, never by the kernel at the outer one (no oom_kill there, its peak stays under).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { copyFixture, describeRun, runCli, type CliResult } from '../support/cli.js';
import { CappedCgroup, cgroupSkipReason } from '../support/memory-cgroup.js';

const MiB = 1024 * 1024;
const OUTER_CAP_BYTES = 2560 * MiB;
const project = copyFixture('memory');
let outer: CappedCgroup | null = null;
before(() => {
  if (cgroupSkipReason() === null) outer = CappedCgroup.create(`bulkhead-e2e-memory-${process.pid}`, OUTER_CAP_BYTES);
});
after(() => {
  outer?.remove();
  project.cleanup();
});

interface MemoryTest {
  id: string;
  outcome: string;
  cause: { kind: string; limitBytes?: number | null; peakBytes?: number | null } | null;
  isolatedRetry: string | null;
  peakMemoryBytes: number | null;
}

function v1Writable(): boolean {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((entry) => /:memory:/.test(entry));
  return line !== undefined && existsSync(`/sys/fs/cgroup/memory${line.split(':')[2]}/memory.limit_in_bytes`);
}

function testsOf(result: CliResult): Map<string, MemoryTest> {
  const tests = (result.json as unknown as { tests: MemoryTest[] }).tests;
  return new Map(tests.map((entry) => [entry.id.split('::').slice(1).join('::'), entry]));
}

async function run(extra: string[]): Promise<CliResult> {
  const group = outer;
  group?.resetPeak();
  const result = await runCli({
    cwd: project.dir,
    options: ['--worker-memory-max', '300M', '--memory-budget', '1G', ...extra],
    timeoutMs: 90_000,
    ...(group ? { wrap: (command: string, args: readonly string[]) => group.wrap(command, args) } : {}),
  });
  if (group) {
    assert.ok(group.peakBytes() < OUTER_CAP_BYTES, `outer cgroup peak ${group.peakBytes()}`);
    assert.equal(group.oomKills(), 0, 'oom_kill at the outer 2.5 GiB cap');
  }
  return result;
}

function checkRun(result: CliResult, mechanism: string): void {
  assert.equal(result.code, 1, describeRun(result));
  assert.deepEqual(result.leftovers, []);
  const memory = (result.json as unknown as { run: { memory: { mechanism: string; budgetBytes: number; workerMaxBytes: number } } }).run.memory;
  assert.equal(memory.mechanism, mechanism);
  assert.equal(memory.budgetBytes, 1024 * MiB);
  assert.equal(memory.workerMaxBytes, 300 * MiB);
  assert.match(result.stdout, new RegExp(`bulkhead: memory: budget 1\\.0 GiB of .* worker cap 300 MiB, enforced by ${mechanism.replace(/\+/g, '\\+')}`));
  const tests = testsOf(result);
  const runaway = tests.get('test_runaway_allocation')!;
  assert.equal(runaway.outcome, 'crashed');
  assert.equal(runaway.cause?.kind, 'oom', JSON.stringify(runaway));
  assert.equal(runaway.cause?.limitBytes, 300 * MiB);
  // Retried alone with the whole budget, it ran out again: it is the test, not the load.
  assert.match(runaway.isolatedRetry ?? '', /crashes on its own/);
  assert.match(result.stdout, /^OOM .*test_runaway_allocation - worker \d+ \(pid \d+\) ran out of memory/m);
  for (const [id, entry] of tests) {
    if (id !== 'test_runaway_allocation') assert.equal(entry.outcome, 'passed', id);
  }
  const hundred = tests.get('test_holds_100_mib')!;
  assert.ok(hundred.peakMemoryBytes !== null, 'peak measured');
  assert.ok(hundred.peakMemoryBytes >= 95 * MiB && hundred.peakMemoryBytes <= 160 * MiB, `peak ${hundred.peakMemoryBytes}`);
  assert.match(result.stdout, /^memory: run peak .* of budget 1\.0 GiB; biggest tests: .*test_holds_100_mib/m);
}

test('cgroup v1 rung: a runaway allocation is killed at the worker cap and reported oom; peaks measured', { skip: !v1Writable() && 'no writable cgroup v1 memory controller' }, async () => {
  checkRun(await run([]), 'cgroup-v1');
});

test('RLIMIT_DATA + RSS watchdog rung (forced): the same verdicts', async () => {
  checkRun(await run(['--memory-control', 'rlimit']), 'rlimit-data+rss-watchdog');
});

test('a bad --memory-budget or --worker-memory-max: exit 4, one line', async () => {
  for (const args of [['--memory-budget', 'lots'], ['--worker-memory-max', '12X'], ['--memory-control', 'magic']]) {
    const result = await runCli({ cwd: project.dir, options: args });
    assert.equal(result.code, 4, describeRun(result));
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`^bulkhead: error: ${args[0]} must be`));
  }
});
