/**
 * The early interpreter probe: what it guesses from the command line, that the run takes it only
 * for the very command, directory and environment it ran, and that one nobody takes is killed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { probeCommand } from '../../src/adapters/pytest/probe.js';
import { guessPython, startProbeEarly, takeEarlyProbe } from '../../src/runner/head-start.js';

test('guessPython: --python (both spellings, before --), then BULKHEAD_PYTHON, then python3; only for run and list', () => {
  assert.equal(guessPython(['run', '--python', '/opt/py/bin/python', '-w', '2'], {}), '/opt/py/bin/python');
  assert.equal(guessPython(['list', '--python=/opt/py/bin/python'], {}), '/opt/py/bin/python');
  assert.equal(guessPython(['run', '-w', '2'], { BULKHEAD_PYTHON: '/env/python' }), '/env/python');
  assert.equal(guessPython(['run'], { BULKHEAD_PYTHON: '' }), 'python3');
  assert.equal(guessPython(['run', '--', '--python', 'not-ours'], {}), 'python3', 'after -- the arguments are pytest\'s');
  assert.equal(guessPython(['run', '--python='], {}), null, 'an empty --python is the run\'s usage error to report');
  assert.equal(guessPython(['report', '--python', 'x'], {}), null);
  assert.equal(guessPython(['run', '--config', 'ci.toml'], {}), null, 'a config file may name another interpreter');
  assert.equal(guessPython(['run', '--config=ci.toml', '--python', 'x'], {}), null);
  assert.equal(guessPython([], {}), null);
});

test('the run takes the early probe when it would run the same probe, and gets its result', async () => {
  const cwd = process.cwd();
  const env = { ...process.env };
  startProbeEarly(['run', '--python', 'python3'], env, cwd);
  const probe = probeCommand('python3');
  const taken = takeEarlyProbe(probe.command, probe.args, cwd, { ...env });
  assert.ok(taken !== null);
  const result = await taken;
  assert.equal(result.kind, 'exited');
  assert.match(result.kind === 'exited' ? result.stdout : '', /"executable"/);
  assert.equal(takeEarlyProbe(probe.command, probe.args, cwd, env), null, 'taken once');
});

test('an early probe of another interpreter, directory or environment is not taken, and is killed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-head-start-'));
  try {
    // A "python" that records its pid and then takes its time.
    const slow = join(dir, 'slow-python');
    writeFileSync(slow, `#!/bin/sh\necho $$ > "${join(dir, 'pid')}"\nexec sleep 20\n`);
    chmodSync(slow, 0o755);
    for (const differs of ['command', 'cwd', 'env'] as const) {
      rmSync(join(dir, 'pid'), { force: true });
      const env = { ...process.env };
      startProbeEarly(['run', '--python', slow], env, dir);
      const probe = probeCommand(slow);
      // The shell creates the file before it writes the pid: wait for the whole line.
      const written = (): string => (existsSync(join(dir, 'pid')) ? readFileSync(join(dir, 'pid'), 'utf8') : '');
      for (let waited = 0; !written().endsWith('\n') && waited < 5000; waited += 20) await sleep(20);
      const pid = Number(written());
      assert.ok(pid > 0, `the early probe wrote its pid (${JSON.stringify(written())})`);
      const taken =
        differs === 'command'
          ? takeEarlyProbe('python3', probe.args, dir, env)
          : differs === 'cwd'
            ? takeEarlyProbe(probe.command, probe.args, tmpdir(), env)
            : takeEarlyProbe(probe.command, probe.args, dir, { ...env, EXTRA: '1' });
      assert.equal(taken, null, `a different ${differs}`);
      let alive = true;
      for (let waited = 0; alive && waited < 5000; waited += 20) {
        await sleep(20);
        alive = isAlive(pid);
      }
      assert.equal(alive, false, `the early probe (pid ${pid}) was killed when its ${differs} differed`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
