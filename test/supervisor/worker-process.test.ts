/**
 * The supervisor against real tiny processes: WorkerProcess (own process group, fd 3 channel,
 * bounded output tails, optional cgroup leaf), the staged kill of terminateWorker, the crash file
 * and classifyExit. Every process is reaped in `after`, whatever happened.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KillReason } from '../../src/model/cause.js';
import { classifyExit } from '../../src/core/classify-exit.js';
import { readCrashStacks } from '../../src/supervisor/crash-file.js';
import { CgroupTree } from '../../src/supervisor/platform/index.js';
import { terminateWorker } from '../../src/supervisor/terminate.js';
import type { WorkerExit } from '../../src/supervisor/worker-process.js';
import { PYTHON, exitWithin, isAlive, reapAll, reapLater, spawnWorker, waitGone } from './harness.js';

const scratch = mkdtempSync(join(tmpdir(), 'bulkhead-supervisor-'));
after(() => {
  reapAll();
  rmSync(scratch, { recursive: true, force: true });
});

function causeOf(exit: WorkerExit, wasReady = true): ReturnType<typeof classifyExit> {
  return classifyExit({
    code: exit.code,
    signal: exit.signal,
    killReason: exit.killReason,
    spawnError: exit.spawnError ? `${exit.spawnError.code ?? ''} ${exit.spawnError.message}`.trim() : null,
    sessionDone: false,
    wasReady,
    oom: null,
  });
}

/** Python source: signal the test (a JSON line on the channel) that setup is done. */
const READY = `import os\nos.write(3, b'{"ready": true}\\n')\n`;

function pgidOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return null;
  }
}

/** The escaped child has called setsid (the shell reports its pid right after the fork, before). */
async function waitEscaped(pid: number, workerPid: number | null): Promise<boolean> {
  const deadline = performance.now() + 5_000;
  while (performance.now() < deadline) {
    const pgid = pgidOf(pid);
    if (pgid !== null && pgid !== workerPid) return true;
    await sleep(10);
  }
  return false;
}

test('channel: a JSON line written on fd 3 arrives, and one sent back is read by the child', async () => {
  const script = [
    'import os, json',
    'os.write(3, (json.dumps({"hello": os.environ.get("BULKHEAD_CHANNEL_FD"), "pid": os.getpid()}) + "\\n").encode())',
    'buf = b""',
    'while not buf.endswith(b"\\n"):',
    '    chunk = os.read(3, 4096)',
    '    if not chunk: break',
    '    buf += chunk',
    'msg = json.loads(buf)',
    'os.write(3, (json.dumps({"echo": msg, "doubled": msg["n"] * 2}) + "\\n").encode())',
  ].join('\n');
  const w = spawnWorker(PYTHON, ['-c', script]);
  const hello = JSON.parse(await w.line(1)) as { hello: string; pid: number };
  assert.deepEqual(hello, { hello: '3', pid: w.proc.pid });
  w.proc.send(`${JSON.stringify({ n: 21, text: 'héllo' })}\n`);
  assert.deepEqual(JSON.parse(await w.line(2)), { echo: { n: 21, text: 'héllo' }, doubled: 42 });
  const exit = await exitWithin(w, 10_000);
  assert.deepEqual({ code: exit.code, signal: exit.signal, killReason: exit.killReason, spawnError: exit.spawnError }, { code: 0, signal: null, killReason: null, spawnError: null });
  assert.equal(w.proc.hasExited, true);
  w.proc.send('{"after": "exit"}\n'); // a no-op, not a throw
});

test('own process group: the worker leads a group of its own', async () => {
  const w = spawnWorker('sh', ['-c', `echo '{}' >&3; sleep 30`]);
  await w.line(1);
  assert.equal(pgidOf(w.proc.pid!), w.proc.pid);
  assert.notEqual(pgidOf(w.proc.pid!), pgidOf(process.pid));
  terminateWorker(w.proc, { kind: 'shutdown', detail: 'test over' }, { dumpStacksMs: 0, graceMs: 2_000 });
  await exitWithin(w, 10_000);
});

test('segfault: the exit is SIGSEGV and the cause a signal; faulthandler names the function in the crash file', async () => {
  const crashFile = join(scratch, 'segv.crash');
  const script = [
    'import ctypes, faulthandler',
    `f = open(${JSON.stringify(crashFile)}, "w")`,
    'faulthandler.enable(file=f, all_threads=True)',
    'def crash_in_native_code():',
    '    ctypes.string_at(0)',
    'crash_in_native_code()',
  ].join('\n');
  const w = spawnWorker(PYTHON, ['-c', script]);
  const exit = await exitWithin(w, 10_000);
  assert.equal(exit.signal, 'SIGSEGV');
  assert.equal(exit.code, null);
  assert.equal(exit.killReason, null);
  assert.deepEqual(causeOf(exit), { kind: 'signal', signal: 'SIGSEGV' });
  assert.deepEqual(causeOf(exit, false), { kind: 'startup_failure', code: null, signal: 'SIGSEGV', detail: null }, 'before ready');
  const stacks = readCrashStacks(crashFile);
  assert.match(stacks, /Segmentation fault/);
  assert.match(stacks, /crash_in_native_code/);
});

test('exit code: os._exit(3) is exit_code 3', async () => {
  const w = spawnWorker(PYTHON, ['-c', 'import os; os._exit(3)']);
  const exit = await exitWithin(w, 10_000);
  assert.deepEqual(causeOf(exit), { kind: 'exit_code', code: 3 });
});

test('spawn error: a missing command is a startup failure naming ENOENT', async () => {
  const w = spawnWorker(join(scratch, 'no-such-interpreter'), ['-c', 'pass']);
  const exit = await exitWithin(w, 10_000);
  assert.equal(exit.spawnError?.code, 'ENOENT');
  assert.equal(w.proc.pid, null);
  const cause = causeOf(exit, false);
  assert.equal(cause.kind, 'startup_failure');
  assert.match(cause.kind === 'startup_failure' ? (cause.detail ?? '') : '', /ENOENT/);
});

test('timeout: a hanging worker and its child are terminated at SIGTERM; the cause is timeout', async () => {
  // The worker starts a child in its own group (a subprocess a test started) and hangs.
  const script = [
    'import os, subprocess, time, json',
    'child = subprocess.Popen(["sleep", "60"])',
    'os.write(3, (json.dumps({"child": child.pid}) + "\\n").encode())',
    'time.sleep(60)',
  ].join('\n');
  const w = spawnWorker(PYTHON, ['-c', script]);
  const { child } = JSON.parse(await w.line(1)) as { child: number };
  reapLater(child);
  assert.equal(isAlive(child), true);
  const reason: KillReason = { kind: 'timeout', limitSeconds: 1 };
  terminateWorker(w.proc, reason, { dumpStacksMs: 0, graceMs: 5_000 });
  assert.equal(w.proc.terminating, true);
  const exit = await exitWithin(w, 10_000);
  assert.equal(exit.signal, 'SIGTERM', 'python dies of the SIGTERM itself, before the grace ends');
  assert.deepEqual(exit.killReason, reason);
  assert.deepEqual(causeOf(exit), { kind: 'timeout', limitSeconds: 1 });
  assert.equal(await waitGone(child, 5_000), true, 'the SIGTERM went to the whole group');
});

test('staged kill: SIGUSR1 (stacks), then SIGTERM, ignored, then SIGKILL after the grace', async () => {
  const script = [
    'import os, signal, time',
    'def note(name):',
    '    def handler(signum, frame):',
    '        os.write(3, (\'{"got": "%s"}\\n\' % name).encode())',
    '    return handler',
    'signal.signal(signal.SIGUSR1, note("SIGUSR1"))',
    'signal.signal(signal.SIGTERM, note("SIGTERM"))',
    READY,
    'while True:',
    '    time.sleep(0.05)',
  ].join('\n');
  const w = spawnWorker(PYTHON, ['-c', script]);
  await w.line(1);
  const reason: KillReason = { kind: 'unresponsive', silentSeconds: 31 };
  const started = performance.now();
  terminateWorker(w.proc, reason, { dumpStacksMs: 200, graceMs: 400 });
  // A second terminate (another deadline on the next tick) changes nothing: the first reason wins.
  terminateWorker(w.proc, { kind: 'timeout', limitSeconds: 9 }, { dumpStacksMs: 0, graceMs: 0 });
  const exit = await exitWithin(w, 15_000);
  const elapsed = performance.now() - started;
  assert.deepEqual(w.lines.map((line) => JSON.parse(line) as unknown), [{ ready: true }, { got: 'SIGUSR1' }, { got: 'SIGTERM' }]);
  assert.equal(exit.signal, 'SIGKILL', 'it survived SIGTERM, so only SIGKILL ended it');
  assert.deepEqual(exit.killReason, reason);
  assert.deepEqual(causeOf(exit), { kind: 'unresponsive', silentSeconds: 31 });
  // Not a timing assertion on the grace: only that the staged kill did end it, and in bounded time.
  assert.ok(elapsed < 15_000);
});

test('staged kill: with faulthandler on SIGUSR1, the stacks are in the crash file before the kill', async () => {
  const crashFile = join(scratch, 'usr1.crash');
  const script = [
    'import faulthandler, os, signal, time',
    `f = open(${JSON.stringify(crashFile)}, "w", buffering=1)`,
    'faulthandler.register(signal.SIGUSR1, file=f, all_threads=True, chain=False)',
    'def stuck_in_a_slow_test():',
    '    os.write(3, b\'{"ready": true}\\n\')',
    '    time.sleep(60)',
    'stuck_in_a_slow_test()',
  ].join('\n');
  const w = spawnWorker(PYTHON, ['-c', script]);
  await w.line(1);
  assert.equal(readCrashStacks(crashFile), '', 'nothing dumped yet');
  terminateWorker(w.proc, { kind: 'timeout', limitSeconds: 2 }, { dumpStacksMs: 300, graceMs: 2_000 });
  const exit = await exitWithin(w, 10_000);
  assert.equal(exit.signal, 'SIGTERM', 'the dump did not kill it; the SIGTERM did');
  const stacks = readCrashStacks(crashFile);
  assert.match(stacks, /stuck_in_a_slow_test/);
  assert.match(stacks, /most recent call first/);
  assert.deepEqual(causeOf(exit), { kind: 'timeout', limitSeconds: 2 });
});

test('terminate: without a stacks dump, SIGUSR1 is never sent (it would kill a process without a handler)', async () => {
  const script = [
    'import os, signal, time',
    'signal.signal(signal.SIGUSR1, lambda s, f: os.write(3, b\'{"got": "SIGUSR1"}\\n\'))',
    READY,
    'time.sleep(60)',
  ].join('\n');
  const w = spawnWorker(PYTHON, ['-c', script]);
  await w.line(1);
  terminateWorker(w.proc, { kind: 'protocol_violation', detail: 'x' }, { dumpStacksMs: 0, graceMs: 2_000 });
  const exit = await exitWithin(w, 10_000);
  assert.deepEqual(w.lines, ['{"ready": true}']);
  assert.equal(exit.signal, 'SIGTERM');
  assert.deepEqual(causeOf(exit), { kind: 'protocol_violation', detail: 'x' });
});

test('terminate after the exit is a no-op and records no reason', async () => {
  const w = spawnWorker(PYTHON, ['-c', 'pass']);
  const exit = await exitWithin(w, 10_000);
  assert.equal(exit.code, 0);
  terminateWorker(w.proc, { kind: 'timeout', limitSeconds: 1 }, { dumpStacksMs: 0, graceMs: 0 });
  assert.equal(w.proc.terminating, false);
});

test('output flood: 200 MB on stdout keeps a bounded tail, and the worker exits normally', async () => {
  const script = [
    'import sys',
    'w = sys.stdout.buffer.write',
    'chunk = (b"x" * 1023 + b"\\n") * 64',
    'for _ in range(3200):',
    '    w(chunk)',
    'w(b"THE-END\\n")',
    'sys.stdout.flush()',
  ].join('\n');
  const w = spawnWorker(PYTHON, ['-c', script]);
  const exit = await exitWithin(w, 120_000);
  assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
  assert.equal(w.proc.log.stdoutTail.written, 3200 * 64 * 1024 + 'THE-END\n'.length);
  const tail = w.proc.log.stdoutTail.text();
  assert.ok(tail.length <= 16 * 1024, `tail of ${tail.length} chars`);
  assert.ok(tail.length >= 8 * 1024, `tail of only ${tail.length} chars`);
  assert.ok(tail.endsWith('xxx\nTHE-END\n'), 'the tail is the end of the output');
  assert.equal(w.proc.log.stdoutTail.lastLines(1), 'THE-END');
  assert.equal(w.proc.log.stderrTail.written, 0);
});

test('output flood on stderr keeps its own bounded tail for crash reports', async () => {
  const script = [
    'import os, sys',
    'w = sys.stderr.buffer.write',
    'for i in range(20000):',
    '    w(b"line %d of noise\\n" % i)',
    'sys.stderr.flush()',
    'os._exit(5)',
  ].join('\n');
  const w = spawnWorker(PYTHON, ['-c', script]);
  const exit = await exitWithin(w, 30_000);
  assert.equal(exit.code, 5);
  const tail = w.proc.log.stderrTail.text();
  assert.ok(tail.length <= 64 * 1024, `stderr tail of ${tail.length}`);
  assert.equal(w.proc.log.stderrTail.lastLines(2), 'line 19998 of noise\nline 19999 of noise');
});

/** Removes a test's cgroup tree once its leaves are gone (the worker removes its leaf when emptied). */
async function removeTree(tree: CgroupTree): Promise<void> {
  const deadline = performance.now() + 3_000;
  for (;;) {
    tree.remove();
    if (!existsSync(tree.root) || performance.now() > deadline) return;
    await sleep(20);
  }
}

/**
 * Python that starts `sleep 300` in a new session (setsid: out of the worker's process group),
 * reports its pid on the channel, then exits (or, with `then: 'hang'`, stays). Popen returns only
 * once the child has exec'd, so the child has left the group before the worker can exit (a shell's
 * `setsid cmd &` races the group kill at the worker's exit).
 */
function escaper(keepStdout: boolean, then: 'exit' | 'hang' = 'exit'): string[] {
  const script = [
    'import json, os, subprocess, time',
    keepStdout ? 'kw = {}' : 'kw = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)',
    'p = subprocess.Popen(["sleep", "300"], start_new_session=True, **kw)',
    'os.write(3, (json.dumps({"pid": p.pid}) + "\\n").encode())',
    then === 'exit' ? 'os._exit(0)' : 'time.sleep(300)',
  ].join('\n');
  return ['-c', script];
}

test('without a cgroup, a child that escaped with setsid outlives its worker (why the cgroup exists)', async () => {
  const w = spawnWorker(PYTHON, escaper(false));
  const { pid } = JSON.parse(await w.line(1)) as { pid: number };
  reapLater(pid);
  const exit = await exitWithin(w, 10_000);
  assert.equal(exit.code, 0);
  assert.equal(await waitEscaped(pid, w.proc.pid), true, 'it left the worker group');
  await sleep(200);
  assert.equal(isAlive(pid), true, 'the process-group kill does not reach it');
  process.kill(pid, 'SIGKILL');
});

test('with a cgroup leaf, a child that escaped with setsid (holding stdout) is killed when the worker exits', async (t) => {
  const tree = CgroupTree.create(`bulkhead-test-${process.pid}-${Date.now()}`);
  if (tree === null) {
    t.skip('no writable cgroup v2 hierarchy with cgroup.kill on this machine');
    return;
  }
  try {
    const leaf = tree.leaf('worker-1');
    assert.ok(leaf, 'a leaf under the run cgroup');
    const w = spawnWorker(PYTHON, escaper(true), { cgroup: leaf });
    const { pid } = JSON.parse(await w.line(1)) as { pid: number };
    reapLater(pid);
    assert.ok(leaf.pids().includes(pid), 'the escaped child is in the worker cgroup');
    assert.equal(await waitEscaped(pid, w.proc.pid), true, 'it left the worker group');
    // It holds the worker's stdout open: only killing it lets the exit be reported.
    const exit = await exitWithin(w, 10_000);
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null });
    assert.equal(await waitGone(pid, 5_000), true, 'cgroup.kill ended the escaped child');
    // The worker removes its leaf once the kernel has emptied it.
    const deadline = performance.now() + 3_000;
    while (existsSync(leaf.path) && performance.now() < deadline) await sleep(20);
    assert.equal(existsSync(leaf.path), false, 'the leaf was removed');
  } finally {
    await removeTree(tree);
  }
});

test('killHard reaches everything in the cgroup, even after the group leader is gone', async (t) => {
  const tree = CgroupTree.create(`bulkhead-test-${process.pid}-${Date.now()}-b`);
  if (tree === null) {
    t.skip('no writable cgroup v2 hierarchy with cgroup.kill on this machine');
    return;
  }
  try {
    const leaf = tree.leaf('worker-2')!;
    const w = spawnWorker(PYTHON, escaper(false, 'hang'), { cgroup: leaf });
    const { pid } = JSON.parse(await w.line(1)) as { pid: number };
    reapLater(pid);
    assert.equal(await waitEscaped(pid, w.proc.pid), true, 'it left the worker group');
    w.proc.recordKillReason({ kind: 'interrupted', detail: 'second ctrl-c' });
    w.proc.killHard();
    const exit = await exitWithin(w, 10_000);
    assert.equal(exit.signal, 'SIGKILL');
    assert.deepEqual(causeOf(exit), { kind: 'interrupted', detail: 'second ctrl-c' });
    assert.equal(await waitGone(pid, 5_000), true);
  } finally {
    await removeTree(tree);
  }
});

test('readCrashStacks: none, missing, and a long dump keeps its end', () => {
  assert.equal(readCrashStacks(null), '');
  assert.equal(readCrashStacks(join(scratch, 'missing.crash')), '');
  const long = join(scratch, 'long.crash');
  const body = `${'Thread 0x1 (most recent call first):\n  File "a.py", line 1 in f\n'.repeat(3000)}  File "last.py", line 9 in the_very_end\n`;
  writeFileSync(long, body);
  const stacks = readCrashStacks(long);
  assert.ok(stacks.startsWith('...\n'));
  assert.ok(stacks.length <= 64 * 1024 + 4, `${stacks.length}`);
  assert.ok(stacks.endsWith('in the_very_end'));
});
