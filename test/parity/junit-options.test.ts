/**
 * JUnit parity under every junit option: on the `junit-options` fixture (record_property,
 * record_xml_attribute, record_testsuite_property, a failure with captured stdout/stderr/logging,
 * a setup error, a failed call then a teardown error, skips, xfail, a strict xpass, a module
 * skipped at collection), plain pytest's `--junitxml` file and `bulkhead run --workers 2`'s must
 * be the same document once times, timestamps and hostnames are set aside, on pytest 9 (python3)
 * and on pytest 7.2 (Debian's /usr/bin/python3).
 *
 * Each row is one pytest invocation; bulkhead is given the same arguments, and the report is
 * asked for with bulkhead's `--junit`, with pytest's own `--junitxml` after `--` (the drop-in
 * spelling), or through `addopts`. Plugin autoloading is off on both sides: it costs each run a
 * second here and is the same for both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstDifference, withoutTimes } from '../../scripts/parity.js';
import { baseEnv, CLI_PATH, fixturePath, spawnBounded, type SpawnResult } from '../support/cli.js';

interface Interpreter {
  label: string;
  python: string;
}

const INTERPRETERS: Interpreter[] = [
  { label: 'pytest 9 (python3)', python: process.env.BULKHEAD_TEST_PYTHON ?? 'python3' },
  { label: "pytest 7.2 (Debian's /usr/bin/python3)", python: '/usr/bin/python3' },
];

/** How bulkhead is asked for the report. */
type Spelling = 'junit' | 'junitxml' | 'addopts';

interface Row {
  name: string;
  args: string[];
  spelling: Spelling;
}

const LOGGING = ['log', 'system-out', 'system-err', 'out-err', 'all'];

const ROWS: Row[] = [
  { name: 'defaults', args: [], spelling: 'junit' },
  { name: 'defaults, --junitxml after --', args: [], spelling: 'junitxml' },
  { name: 'defaults, --junitxml in addopts', args: [], spelling: 'addopts' },
  { name: 'junit_family=xunit1', args: ['-o', 'junit_family=xunit1'], spelling: 'junitxml' },
  { name: 'junit_family=legacy', args: ['-o', 'junit_family=legacy'], spelling: 'junit' },
  { name: 'junit_suite_name=nightly, --junit-prefix=pre', args: ['-o', 'junit_suite_name=nightly', '--junit-prefix=pre'], spelling: 'junitxml' },
  { name: 'junit_duration_report=call', args: ['-o', 'junit_duration_report=call'], spelling: 'junit' },
  ...LOGGING.flatMap((value, index): Row[] => [
    { name: `junit_logging=${value}`, args: ['-o', `junit_logging=${value}`], spelling: index % 2 === 0 ? 'junit' : 'junitxml' },
    {
      name: `junit_logging=${value}, junit_log_passing_tests=false`,
      args: ['-o', `junit_logging=${value}`, '-o', 'junit_log_passing_tests=false'],
      spelling: index % 2 === 0 ? 'junitxml' : 'junit',
    },
  ]),
];

/** The fixture's slow_setup sleeps this long in setup; junit_duration_report=call leaves it out. */
const SLOW_SETUP_SECONDS = 0.3;

function pytestVersion(python: string): string | null {
  const probe = spawnSync(python, ['-c', 'import pytest; print(pytest.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  return probe.status === 0 ? probe.stdout.trim() : null;
}

interface Pair {
  pytest: SpawnResult;
  bulkhead: SpawnResult;
  expected: string;
  actual: string;
}

function describe(run: SpawnResult): string {
  return `exit ${run.code}${run.timedOut ? ' (timed out)' : ''}\n--- stdout\n${run.stdout.slice(-3000)}\n--- stderr\n${run.stderr.slice(-3000)}`;
}

async function runPair(project: string, out: string, python: string, row: Row): Promise<Pair> {
  const expectedPath = join(out, 'pytest.xml');
  const actualPath = join(out, 'bulkhead.xml');
  rmSync(expectedPath, { force: true });
  rmSync(actualPath, { force: true });
  const env = baseEnv({ PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1' });
  const common = ['-p', 'no:cacheprovider', ...row.args];
  const asked = (path: string): string[] => (row.spelling === 'addopts' ? ['-o', `addopts=--junitxml=${path}`] : ['--junitxml', path]);
  const pytest = await spawnBounded(python, ['-m', 'pytest', ...common, ...asked(expectedPath)], { cwd: project, env, timeoutMs: 60_000 });
  const bulkheadArgs =
    row.spelling === 'junit'
      ? ['run', '--workers', '2', '--python', python, '--junit', actualPath, '--', ...common]
      : ['run', '--workers', '2', '--python', python, '--', ...common, ...asked(actualPath)];
  const bulkhead = await spawnBounded(process.execPath, [CLI_PATH, ...bulkheadArgs], { cwd: project, env, timeoutMs: 60_000 });
  assert.ok(existsSync(expectedPath), `pytest wrote no ${expectedPath}\n${describe(pytest)}`);
  assert.ok(existsSync(actualPath), `bulkhead wrote no ${actualPath}\n${describe(bulkhead)}`);
  return { pytest, bulkhead, expected: readFileSync(expectedPath, 'utf8'), actual: readFileSync(actualPath, 'utf8') };
}

/** Where pytest's "generated xml file" line says it wrote, the file's name (each side has its own) set aside. */
function generatedLine(output: string): string | undefined {
  return / generated xml file: (\S+)\/(?:pytest|bulkhead)\.xml -+$/m.exec(output)?.[1];
}

function testcaseTime(xml: string, name: string): number {
  const match = new RegExp(`<testcase [^>]*name="${name}"[^>]* time="([0-9.]+)"`).exec(xml);
  assert.ok(match, `no testcase ${name} in\n${xml}`);
  return Number(match[1]);
}

for (const interpreter of INTERPRETERS) {
  const version = pytestVersion(interpreter.python);
  const skip = version === null ? `${interpreter.python} cannot import pytest` : false;
  test(`--junit equals pytest's --junitxml under every junit option, ${interpreter.label}`, { skip, timeout: 300_000 }, async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'bulkhead-junit-parity-'));
    try {
      // A copy: the runs leave .bulkhead artifacts and __pycache__ behind.
      const project = join(root, 'project');
      cpSync(fixturePath('junit-options'), project, { recursive: true });
      const out = join(root, 'out');
      for (const row of ROWS) {
        await t.test(`${row.name} (bulkhead's ${row.spelling === 'junit' ? '--junit' : row.spelling === 'junitxml' ? '--junitxml after --' : '--junitxml in addopts'})`, async () => {
          const pair = await runPair(project, out, interpreter.python, row);
          assert.equal(pair.bulkhead.code, pair.pytest.code, `exit codes differ\n${describe(pair.bulkhead)}`);
          // A report with nothing in it would be the same as another empty one: this one is full.
          assert.ok((pair.expected.match(/<testcase /g) ?? []).length >= 15, pair.expected);
          const difference = firstDifference(withoutTimes(pair.expected), withoutTimes(pair.actual));
          assert.equal(difference, null, `${difference}\n--- bulkhead\n${describe(pair.bulkhead)}`);
          // pytest says where it wrote its --junitxml; bulkhead, which wrote it, says the same.
          if (row.spelling !== 'junit') {
            const where = generatedLine(pair.pytest.stdout);
            assert.ok(where, pair.pytest.stdout);
            assert.equal(generatedLine(pair.bulkhead.stdout), where, pair.bulkhead.stdout);
          }
          if (row.name === 'defaults') {
            assert.match(pair.actual, /<testsuite [^>]*><properties><property name="ARCH" value="x86_64" \/><property name="STORAGE" value="ceph" \/><\/properties>/);
            assert.ok(testcaseTime(pair.actual, 'test_slow_setup') >= SLOW_SETUP_SECONDS);
          }
          if (row.name === 'junit_duration_report=call') {
            // Times are set aside above: here they are the point.
            assert.ok(testcaseTime(pair.actual, 'test_slow_setup') < SLOW_SETUP_SECONDS, pair.actual);
          }
        });
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}
