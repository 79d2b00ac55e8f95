/**
 * Usage errors: each exits 4 (pytest's usage error) with one line on stderr that says what is
 * wrong, before any test runs. Run on a copy of the `selection` project.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_PATH, PYTHON, baseEnv, copyFixture, describeRun, runCli, runPytest, spawnBounded, tempDir } from '../support/cli.js';

const project = copyFixture('selection');
const scratch = tempDir('bad-input');
after(() => {
  project.cleanup();
  scratch.cleanup();
});

function stderrLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim().length > 0);
}

/** Exit 4, exactly one line on stderr matching `pattern`, no test run. */
function assertUsageError(result: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(result.code, 4, describeRun(result));
  const lines = stderrLines(result.stderr);
  assert.equal(lines.length, 1, `one line on stderr:\n${result.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stdout, /\d+ (passed|failed)/, 'no test ran');
}

test('an unknown bulkhead option: exit 4, one line naming it', async () => {
  const result = await runCli({ cwd: project.dir, rawArgs: ['run', '--workers', '2', '--bogus-option'] });
  assertUsageError(result, /--bogus-option/);
  assert.equal(result.stdout, '');
});

test('an unknown command: exit 4, one line', async () => {
  const result = await runCli({ cwd: project.dir, rawArgs: ['frobnicate'] });
  assertUsageError(result, /frobnicate/);
});

test('--workers 0 and --workers abc: exit 4, one line about --workers', async () => {
  for (const value of ['0', 'abc']) {
    const result = await runCli({ cwd: project.dir, rawArgs: ['run', '--workers', value] });
    assertUsageError(result, new RegExp(`--workers.*'${value}'`));
  }
});

test("a test path that does not exist: exit 4 with pytest's own message", async () => {
  const bulk = await runCli({ cwd: project.dir, pytestArgs: ['tests/no_such_test_file.py'] });
  const plain = await runPytest({ cwd: project.dir, pytestArgs: ['tests/no_such_test_file.py'] });
  assert.equal(plain.code, 4, describeRun(plain));
  const message = 'ERROR: file or directory not found: tests/no_such_test_file.py';
  assert.ok(stderrLines(plain.stderr).includes(message), describeRun(plain));
  assertUsageError(bulk, new RegExp(`^${message.replace(/[.]/g, '\\.')}$`));
  assert.equal(bulk.json?.summary.total ?? 0, 0);
});

test("an option pytest does not know: exit 4 with pytest's own usage message", async () => {
  const bulk = await runCli({ cwd: project.dir, pytestArgs: ['--no-such-pytest-option'] });
  const plain = await runPytest({ cwd: project.dir, pytestArgs: ['--no-such-pytest-option'] });
  assert.equal(plain.code, 4);
  assert.equal(bulk.code, 4, describeRun(bulk));
  assert.match(bulk.stderr, /error: unrecognized arguments: --no-such-pytest-option/);
  // pytest's message, not one per worker.
  assert.equal(bulk.stderr.split('unrecognized arguments').length - 1, 1, describeRun(bulk));
});

test('--python /nonexistent: exit 4, one line naming the interpreter', async () => {
  const result = await runCli({ cwd: project.dir, options: ['--python', '/nonexistent/python3'] });
  assertUsageError(result, /'\/nonexistent\/python3'/);
});

test('--python that is not a Python: exit 4, one line that says so', async () => {
  const result = await runCli({ cwd: project.dir, options: ['--python', '/bin/true'] });
  assertUsageError(result, /'\/bin\/true' did not run as a Python interpreter/);
  // With nothing on the interpreter's stderr the line says so, rather than "()".
  assert.doesNotMatch(result.stderr, /\(\)/, result.stderr);
});

test('a venv without pytest: exit 4, one line saying pytest is not importable', async () => {
  const venv = join(scratch.dir, 'venv');
  const made = await spawnBounded(PYTHON, ['-m', 'venv', '--without-pip', venv], { cwd: scratch.dir, env: baseEnv(), timeoutMs: 60_000 });
  assert.equal(made.code, 0, describeRun(made));
  const python = join(venv, 'bin', 'python');
  const result = await runCli({ cwd: project.dir, options: ['--python', python] });
  assertUsageError(result, /pytest is not importable/);
  assert.ok(result.stderr.includes(python), 'the line names the interpreter');
});

test('a too old pytest (6.2.5) on PYTHONPATH: exit 4, one line naming the version', async () => {
  const fake = join(scratch.dir, 'old-pytest');
  mkdirSync(join(fake, 'pytest'), { recursive: true });
  writeFileSync(join(fake, 'pytest', '__init__.py'), '__version__ = "6.2.5"\n');
  const result = await runCli({ cwd: project.dir, env: { PYTHONPATH: fake } });
  assertUsageError(result, /pytest 6\.2\.5 .*too old/);
});

test('a pytest that is installed but does not import: exit 4, one line with its error, once', async () => {
  // The probe reads the version from _pytest without importing pytest; the workers import it.
  const fake = join(scratch.dir, 'broken-pytest');
  mkdirSync(join(fake, 'pytest'), { recursive: true });
  mkdirSync(join(fake, '_pytest'), { recursive: true });
  writeFileSync(join(fake, '_pytest', '__init__.py'), '__version__ = "8.0.0"\n');
  writeFileSync(join(fake, 'pytest', '__init__.py'), 'raise ImportError("cannot import name \'Mark\' from \'_pytest.mark\'")\n');
  const result = await runCli({ cwd: project.dir, options: ['--workers', '2'], env: { PYTHONPATH: fake } });
  assertUsageError(result, /^ERROR: pytest is not importable by '.*' \(ImportError: cannot import name 'Mark' from '_pytest\.mark'\)/);
});

test('BULKHEAD_PYTHON names the interpreter when --python is not given', async () => {
  const result = await runCli({ cwd: project.dir, env: { BULKHEAD_PYTHON: '/nonexistent/bh-python' } });
  assertUsageError(result, /'\/nonexistent\/bh-python'/);
});

test('the CLI path used by these tests exists (a missing build is not a usage error)', async () => {
  const result = await spawnBounded(process.execPath, [CLI_PATH, '--version'], { cwd: project.dir, env: baseEnv(), timeoutMs: 30_000 });
  assert.equal(result.code, 0, describeRun(result));
  assert.match(result.stdout, /^\d+\.\d+\.\d+/);
});
