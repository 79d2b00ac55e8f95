/**
 * The interpreter probe, run on real interpreters: it finds pytest's version without importing
 * pytest (a quarter of a second before any worker can start), and still tells a missing pytest and
 * a lone `pytest` package of its own version apart.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROBE_SCRIPT, judgeProbeOutput } from '../../../src/adapters/pytest/probe.js';
import { PYTHON, baseEnv, describeRun, spawnBounded, tempDir } from '../../support/cli.js';

const scratch = tempDir('probe');
after(() => scratch.cleanup());

/** The probe's answer, and whether the interpreter had imported pytest when it gave it. */
async function probe(env: Record<string, string> = {}): Promise<{ info: Record<string, string>; importedPytest: boolean }> {
  const script = `${PROBE_SCRIPT}\nprint("pytest" in sys.modules)`;
  const run = await spawnBounded(PYTHON, ['-c', script], { cwd: scratch.dir, env: baseEnv(env), timeoutMs: 60_000 });
  assert.equal(run.code, 0, describeRun(run));
  const [answer, imported] = run.stdout.trim().split('\n');
  return { info: JSON.parse(answer!) as Record<string, string>, importedPytest: imported === 'True' };
}

test("the installed pytest's version, without importing pytest", async () => {
  const { info, importedPytest } = await probe();
  const version = await spawnBounded(PYTHON, ['-c', 'import pytest; print(pytest.__version__)'], { cwd: scratch.dir, env: baseEnv(), timeoutMs: 60_000 });
  assert.equal(info.pytest, version.stdout.trim());
  assert.equal(importedPytest, false, 'pytest itself was not imported');
  assert.equal(judgeProbeOutput(PYTHON, JSON.stringify(info), '').ok, true);
});

test('a lone pytest package (no _pytest beside it) is imported for its version', async () => {
  const fake = join(scratch.dir, 'lone');
  mkdirSync(join(fake, 'pytest'), { recursive: true });
  writeFileSync(join(fake, 'pytest', '__init__.py'), '__version__ = "6.2.5"\n');
  const { info, importedPytest } = await probe({ PYTHONPATH: fake });
  assert.equal(info.pytest, '6.2.5');
  assert.equal(importedPytest, true);
  const verdict = judgeProbeOutput(PYTHON, JSON.stringify(info), '');
  assert.ok(!verdict.ok && /pytest 6\.2\.5 .*too old/.test(verdict.message), JSON.stringify(verdict));
});

test('a _pytest that cannot tell its version: pytest is imported, and its failure is the answer', async () => {
  const fake = join(scratch.dir, 'unknown');
  mkdirSync(join(fake, 'pytest'), { recursive: true });
  mkdirSync(join(fake, '_pytest'), { recursive: true });
  writeFileSync(join(fake, '_pytest', '__init__.py'), '__version__ = "unknown"\n');
  writeFileSync(join(fake, 'pytest', '__init__.py'), 'raise ImportError("half installed")\n');
  const { info } = await probe({ PYTHONPATH: fake });
  assert.equal(info.pytest, undefined);
  assert.equal(info.pytest_error, 'ImportError: half installed');
});

test('no pytest at all: the same error pytest would give', async () => {
  // -I -S leaves out PYTHONPATH and site-packages: a Python without pytest.
  const run = await spawnBounded(PYTHON, ['-I', '-S', '-c', PROBE_SCRIPT], { cwd: scratch.dir, env: baseEnv(), timeoutMs: 60_000 });
  assert.equal(run.code, 0, describeRun(run));
  const info = JSON.parse(run.stdout) as Record<string, string>;
  assert.equal(info.pytest_error, "ModuleNotFoundError: No module named 'pytest'");
  const verdict = judgeProbeOutput(PYTHON, run.stdout, '');
  assert.ok(!verdict.ok && /pytest is not importable/.test(verdict.message));
});
