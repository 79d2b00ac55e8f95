/**
 * What `npm pack` produces holds everything `npx bulkhead run` needs when installed elsewhere:
 * the compiled CLI and every module it loads, the entry scripts (worker launcher, run reaper, coverage step), and every module of the pytest
 * plugin (a missing launcher once made every worker of an installed bulkhead die at start). Then
 * the packed tarball, installed into a fresh folder, runs the bundled example suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, cpSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_ROOT, spawnBounded, baseEnv } from '../support/cli.js';

function packedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((file) => file.path);
}

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith(suffix) && !name.includes('__pycache__'))
    .map((name) => relative(REPO_ROOT, join(REPO_ROOT, dir, name)));
}

test('the package holds the CLI, the worker launcher and every plugin module, and no bytecode', () => {
  const packed = new Set(packedFiles());
  // Every entry script beside the plugin package (the worker launcher, the run's reaper, the coverage step's).
  const scripts = readdirSync(join(REPO_ROOT, 'python')).filter((name) => name.endsWith('.py')).map((name) => `python/${name}`);
  for (const script of ['python/bulkhead-worker.py', 'python/bulkhead-reaper.py', 'python/bulkhead-coverage.py']) assert.ok(scripts.includes(script), script);
  const needed = ['dist/src/cli/main.js', ...scripts, ...filesUnder('python/bulkhead_pytest', '.py'), ...filesUnder('dist/src', '.js')];
  for (const file of needed) assert.ok(packed.has(file), `${file} is not in the package`);
  assert.deepEqual([...packed].filter((file) => file.includes('__pycache__') || file.endsWith('.pyc')), []);
  assert.deepEqual([...packed].filter((file) => file.startsWith('python/tests/') || file.startsWith('dist/test/')), []);
});

test('installed from the tarball into a fresh folder, `npx bulkhead run` runs the example suite', { timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-pack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tarball = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: REPO_ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
  const project = join(dir, 'project');
  cpSync(join(REPO_ROOT, 'examples', 'quickstart'), project, { recursive: true });
  execFileSync('npm', ['init', '-y'], { cwd: project, stdio: 'ignore' });
  // The dependencies come from the npm cache this checkout's own install filled.
  execFileSync('npm', ['install', '--silent', '--no-audit', '--no-fund', join(dir, tarball)], { cwd: project, stdio: 'ignore', timeout: 540_000 });
  const result = await spawnBounded('npx', ['bulkhead', 'run', '--workers', '2', '--junit', 'report.xml'], { cwd: project, env: baseEnv(), timeoutMs: 120_000 });
  // The example has one real failure: pytest's exit code 1, and every test reported.
  assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /1 failed, 59 passed, 1 skipped in /);
  assert.match(readFileSync(join(project, 'report.xml'), 'utf8'), /tests="61"/);
});
