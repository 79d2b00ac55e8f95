/**
 * The run's reaper (src/supervisor/run-reaper.ts, python/bulkhead-reaper.py) against real
 * processes: when the process that started it is SIGKILLed it kills every process of the run by
 * each of its ways (a worker's process group, the run's marker, the run's v2 and v1 memory
 * cgroups) and removes the run's cgroups; a forgotten worker and anything after a goodbye are left
 * alone; the signals of a Ctrl-C or of a group kill do not stop it. Every process is reaped in
 * `after`, whatever happened.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RunReaper } from '../../src/supervisor/run-reaper.js';
import { packageRoot } from '../../src/util/package-root.js';
import { PYTHON, isAlive, reapLater, reapAll, waitGone } from './harness.js';

const SCRIPT = join(packageRoot(), 'python', 'bulkhead-reaper.py');
const STAND_IN = fileURLToPath(new URL('./reaper-supervisor.js', import.meta.url));
const linux = process.platform === 'linux';

interface Scene {
  pids: { reaper: number; worker: number; workerChild: number; escaped: number; confinedV2: number | null; confinedV1: number | null; forgotten: number };
  cgroups: string[];
}

/** The scene the stand-in bulkhead set up, and for each of its pids whether it was gone 1 s after the stand-in was killed. */
let scene: Scene | null = null;
let goneWithin1s: Record<string, boolean> = {};
let ignoredSignals = false;
const cleanups: Array<() => void | Promise<void>> = [];

before(async () => {
  if (!linux) return;
  const standIn = spawn(process.execPath, [STAND_IN, PYTHON, SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  reapLater(standIn.pid!);
  const line = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: standIn.stdout! }).once('line', resolve)),
    new Promise<string>((_, reject) => setTimeout(() => reject(new Error('the stand-in bulkhead printed nothing in 20 s')), 20_000).unref()),
  ]);
  scene = JSON.parse(line) as Scene;
  for (const pid of Object.values(scene.pids)) if (pid !== null) reapLater(pid);
  cleanups.push(() => scene!.cgroups.forEach(removeCgroup));

  // A Ctrl-C, a `kill`, a hang-up: the reaper lives on (once it has started: before its first
  // line it is any Python, and on a loaded machine the signals would beat it there).
  await waitIgnoring(scene.pids.reaper, 5_000);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.kill(scene.pids.reaper, signal);
  await new Promise((resolve) => setTimeout(resolve, 300));
  ignoredSignals = isAlive(scene.pids.reaper);

  // bulkhead and its process group SIGKILLed at once (`kill -9 -- -pgid`): the reaper is not in it.
  process.kill(-standIn.pid!, 'SIGKILL');
  const gone = await Promise.all(Object.entries(scene.pids).map(async ([name, pid]) => [name, pid === null || (await waitGone(pid, 1_000))] as const));
  goneWithin1s = Object.fromEntries(gone);
});

/** Waits until the process ignores SIGHUP, SIGINT and SIGTERM (its SigIgn mask in /proc). */
async function waitIgnoring(pid: number, timeoutMs: number): Promise<void> {
  const wanted = (1n << 0n) | (1n << 1n) | (1n << 14n); // SIGHUP (1), SIGINT (2), SIGTERM (15): bit n-1
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    if (mask !== undefined && (BigInt(`0x${mask}`) & wanted) === wanted) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

after(async () => {
  reapAll();
  for (const cleanup of cleanups) await cleanup();
});

test('SIGINT, SIGTERM and SIGHUP do not stop the reaper', (t) => {
  if (!scene) return t.skip('needs Linux');
  assert.equal(ignoredSignals, true);
});

test("bulkhead SIGKILLed: a registered worker's process group dies within 1 s", (t) => {
  if (!scene) return t.skip('needs Linux');
  assert.equal(goneWithin1s.worker, true, 'the worker');
  assert.equal(goneWithin1s.workerChild, true, "the worker's child");
});

test('bulkhead SIGKILLed: a process that left the group but carries the run marker dies', (t) => {
  if (!scene) return t.skip('needs Linux');
  assert.equal(goneWithin1s.escaped, true);
});

test("bulkhead SIGKILLed: a process in the run's v2 cgroup dies (cgroup.kill)", (t) => {
  if (!scene?.pids.confinedV2) return t.skip('no writable cgroup v2 hierarchy with cgroup.kill here');
  assert.equal(goneWithin1s.confinedV2, true);
});

test("bulkhead SIGKILLed: a process in the run's v1 memory cgroup dies (stopped, then killed)", (t) => {
  if (!scene?.pids.confinedV1) return t.skip('no writable cgroup v1 memory hierarchy here');
  assert.equal(goneWithin1s.confinedV1, true);
});

test('bulkhead SIGKILLed: a forgotten worker is left alone', (t) => {
  if (!scene) return t.skip('needs Linux');
  assert.equal(goneWithin1s.forgotten, false);
  assert.equal(isAlive(scene.pids.forgotten), true);
});

test("bulkhead SIGKILLed: the reaper removes the run's cgroups and exits", (t) => {
  if (!scene) return t.skip('needs Linux');
  assert.equal(goneWithin1s.reaper, true);
  assert.deepEqual(scene.cgroups.filter((dir) => existsSync(dir)), []);
});

test('close(): the reaper exits at once and kills nothing', async (t) => {
  if (!linux) return t.skip('needs Linux');
  const lost: string[] = [];
  const reaper = RunReaper.start({ python: PYTHON, script: SCRIPT, cgroups: [], onLost: (detail) => lost.push(detail) });
  const victim = spawn(PYTHON, ['-c', 'import time; time.sleep(60)'], { env: { ...process.env, ...reaper.env }, detached: true, stdio: 'ignore' });
  reapLater(victim.pid!);
  reaper.register({ pid: victim.pid!, pgid: victim.pid!, cgroups: [] });
  reaper.close();
  assert.equal(await waitGone(reaper.pid!, 2_000), true, 'the reaper exited');
  assert.equal(isAlive(victim.pid!), true, 'its registered worker lives');
  assert.deepEqual(lost, []);
});

test('a reaper that dies during the run is reported once; one that cannot start too', async (t) => {
  if (!linux) return t.skip('needs Linux');
  const lost: string[] = [];
  const reaper = RunReaper.start({ python: PYTHON, script: SCRIPT, cgroups: [], onLost: (detail) => lost.push(detail) });
  process.kill(reaper.pid!, 'SIGKILL');
  assert.equal(await waitGone(reaper.pid!, 2_000), true);
  await waitFor(() => lost.length > 0, 2_000);
  assert.deepEqual(lost, ["the run's reaper is lost (it exited (SIGKILL)): should bulkhead die now, what its tests started may outlive it"]);
  reaper.register({ pid: 1, pgid: 1, cgroups: [] }); // nobody to tell: no throw, no second report
  reaper.close();

  const missing: string[] = [];
  RunReaper.start({ python: '/nonexistent/python3', script: SCRIPT, cgroups: [], onLost: (detail) => missing.push(detail) });
  await waitFor(() => missing.length > 0, 2_000);
  assert.match(missing[0] ?? '', /^the run's reaper is lost \(cannot start '\/nonexistent\/python3' for it: spawn \/nonexistent\/python3 ENOENT\)/);
  assert.equal(missing.length, 1);
});

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Kills what is left in a cgroup folder and removes it, leaves first (a failed test's leftovers). */
function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  try {
    writeFileSync(join(dir, 'cgroup.kill'), '1');
  } catch {
    // v1: its processes were reaped by pid
  }
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeCgroup(join(dir, entry.name));
    rmdirSync(dir);
  } catch {
    // still emptying; the next run's stale sweep removes it
  }
}
