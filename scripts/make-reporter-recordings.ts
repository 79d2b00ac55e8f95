/**
 * Re-makes the recorded runs the reporter tests replay (test/reporters/recordings/): each one a
 * real `bulkhead run` of a fixture project, with what that live run printed and wrote kept beside
 * its recording as the expected output of a replay:
 *
 *   <name>.ndjson         the run's events.ndjson
 *   <name>.terminal.txt   its stdout (COLUMNS=80; colour only where the spec asks for it)
 *   <name>.junit.xml      its --junit file
 *   <name>.json           its --json file
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/make-reporter-recordings.js [NAME...]
 *
 * Each fixture runs from a fixed folder (/tmp/bulkhead-recordings/<name>) so that the paths in a
 * re-made recording stay the same and its diff shows only what changed. The runs are bounded
 * (60 s) and every process they start is reaped (test/support/cli.ts spawnBounded).
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_PATH, FIXTURES_DIR, REPO_ROOT, baseEnv, spawnBounded } from '../test/support/cli.js';

interface Spec {
  fixture: string;
  workers: number;
  options?: string[];
  pytestArgs?: string[];
  env?: Record<string, string>;
  /** Only the terminal output is kept (a colour variant of another recording). */
  terminalOnly?: boolean;
}

const WORK = '/tmp/bulkhead-recordings';

export const SPECS: Record<string, Spec> = {
  // Every outcome pytest has: pass, fail, skips, xfail/xpass (strict too), errors in setup and
  // teardown, a warning, captured output, an importorskip module.
  outcomes: { fixture: 'outcomes', workers: 2 },
  'outcomes-color': { fixture: 'outcomes', workers: 2, env: { PY_COLORS: '1', NO_COLOR: '' }, terminalOnly: true },
  // A segfault and a timeout (each retried alone), a crash only under parallel load (flaky), a
  // leaked daemon, passing tests.
  faults: {
    fixture: 'faults',
    workers: 2,
    options: ['--heartbeat-timeout', '3'],
    pytestArgs: ['tests/test_crashes.py::test_segfault', 'tests/test_hangs.py::test_sleeps_forever', 'tests/test_concurrency_sensitive.py', 'tests/test_leaks.py', 'tests/test_passing.py'],
  },
  // A module that fails to import: pytest's "Interrupted: 1 error during collection", exit 2.
  'collection-error': { fixture: 'collection-error', workers: 2 },
};

async function make(name: string, spec: Spec): Promise<void> {
  const dir = join(WORK, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(FIXTURES_DIR, spec.fixture), dir, { recursive: true, filter: (source) => !/(\.bulkhead|__pycache__|\.pytest_cache)/.test(source) });
  const scratch = join(WORK, `${name}-scratch`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const args = ['run', '--workers', String(spec.workers), '--junit', 'out/junit.xml', '--json', 'out/results.json', ...(spec.options ?? [])];
  if (spec.pytestArgs) args.push('--', ...spec.pytestArgs);
  const env = baseEnv({ BULKHEAD_FAULTS_DIR: scratch, ...spec.env });
  for (const [key, value] of Object.entries(spec.env ?? {})) if (value === '') delete env[key];
  const result = await spawnBounded(process.execPath, [CLI_PATH, ...args], { cwd: dir, env, timeoutMs: 60_000 });
  if (result.timedOut) throw new Error(`${name}: the run timed out`);
  const runs = join(dir, '.bulkhead', 'runs');
  const [run] = readdirSync(runs);
  if (run === undefined || !existsSync(join(runs, run, 'events.ndjson'))) throw new Error(`${name}: no recording in ${runs}`);
  const out = join(REPO_ROOT, 'test', 'reporters', 'recordings');
  copyFileSync(join(runs, run, 'events.ndjson'), join(out, `${name}.ndjson`));
  writeFileSync(join(out, `${name}.terminal.txt`), result.stdout);
  if (!spec.terminalOnly) {
    copyFileSync(join(dir, 'out', 'junit.xml'), join(out, `${name}.junit.xml`));
    copyFileSync(join(dir, 'out', 'results.json'), join(out, `${name}.json`));
  }
  process.stdout.write(`${name}: exit ${result.code}, ${result.seconds.toFixed(1)} s${result.stderr ? `\n  stderr: ${result.stderr.trim().split('\n').join('\n  ')}` : ''}\n`);
  rmSync(scratch, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  for (const name of names.length > 0 ? names : Object.keys(SPECS)) {
    const spec = SPECS[name];
    if (!spec) throw new Error(`unknown recording '${name}' (known: ${Object.keys(SPECS).join(', ')})`);
    await make(name, spec);
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`make-reporter-recordings: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
