/**
 * Scheduling config end to end, on `test/fixtures/scheduling`:
 *
 * - a bad config (a wrong value, a TOML syntax error, a bad override marker expression in
 *   pyproject.toml's [tool.bulkhead]) is one error line naming the file and line, exit code 4,
 *   and nothing runs (no worker, no result file);
 * - a misspelt key in `@pytest.mark.bulkhead(memroy="1G")` is an error naming the test: exit
 *   code 4, nothing runs, and --json still lists every test as not run;
 * - `bulkhead list` shows the run-wide settings and each test's effective settings, each with where
 *   it came from, so the precedence CLI > override > marker > config [defaults] can be read off
 *   it, and runs nothing.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanProject, copyFixture, describeRun, runCli } from '../support/cli.js';
import { runScheduled } from '../support/scheduling-run.js';

const project = copyFixture('scheduling');
after(() => project.cleanup());

/** One error line on stderr, exit 4, and nothing ran: no pytest session, no result file, no spans. */
async function assertRejected(cwd: string, options: string[], expected: RegExp): Promise<void> {
  const run = await runScheduled({ cwd, workers: 2, pytestArgs: ['tests/test_serial.py'], options });
  const { result } = run;
  assert.equal(result.code, 4, describeRun(result));
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, expected);
  assert.equal(result.stdout, '', 'nothing may start');
  assert.equal(result.json, null, 'no results: nothing was collected');
  assert.deepEqual(run.files, []);
  assert.equal(result.maxChildren, 0, 'no worker (nor the Python probe) was started');
  assert.deepEqual(result.leftovers, []);
}

test('a bad config: one line naming the file and line, exit 4, nothing runs', async () => {
  await assertRejected(
    project.dir,
    ['--config', 'configs/bad-value.toml'],
    /^bulkhead: error: configs\/bad-value\.toml:6: resources\.kloros: "lots" is not a capacity \(use a whole number >= 1\)$/,
  );

  const broken = copyFixture('scheduling');
  try {
    // bulkhead.toml, found by itself: a duration without its quotes on line 4.
    writeFileSync(join(broken.dir, 'bulkhead.toml'), 'workers = 2\n\n[defaults]\ntimeout = 30s\nretries = 1\n');
    await assertRejected(broken.dir, [], /^bulkhead: error: bulkhead\.toml:4:13: invalid TOML: illegal character in numeric literal$/);

    // [tool.bulkhead] in pyproject.toml (no bulkhead.toml): an override's marker expression.
    rmSync(join(broken.dir, 'bulkhead.toml'));
    writeFileSync(
      join(broken.dir, 'pyproject.toml'),
      ['[project]', 'name = "scheduling"', '', '[tool.bulkhead]', 'resources = { model = 1 }', '', '[[tool.bulkhead.override]]', 'marker = "slow and (gpu"', 'timeout = 5', ''].join('\n'),
    );
    await assertRejected(broken.dir, [], /^bulkhead: error: pyproject\.toml:8: tool\.bulkhead\.override\[0\]\.marker: .*\(/);
  } finally {
    broken.cleanup();
  }
});

test('an unknown key in @pytest.mark.bulkhead names the test: exit 4, nothing runs, --json lists every test as not run', async () => {
  const run = await runScheduled({ cwd: project.dir, workers: 2, pytestArgs: ['bad_marker'] });
  const { result } = run;
  assert.equal(result.code, 4, describeRun(result));
  assert.match(
    result.stderr,
    /^bulkhead: error: bad_marker\/test_typo\.py::test_typo: @pytest\.mark\.bulkhead\(memroy=\.\.\.\): unknown key 'memroy' \(allowed: timeout, memory, cpus, resources, group, exclusive, retries\)$/m,
  );
  assert.deepEqual(run.files, [], 'no test ran');
  assert.deepEqual(result.leftovers, []);
  assert.equal(result.json?.run.exitCode, 4);
  assert.equal(result.json?.run.end?.kind, 'aborted');
  assert.deepEqual(
    result.json?.tests.map((entry) => [entry.id, entry.outcome]),
    [
      ['bad_marker/test_typo.py::test_typo', 'not_run'],
      ['bad_marker/test_typo.py::test_innocent', 'not_run'],
    ],
  );
  for (const entry of result.json?.tests ?? []) assert.match(entry.reason ?? '', /unknown key 'memroy'/);
  assert.match(result.stdout, /^NOT RUN bad_marker\/test_typo\.py::test_innocent$/m);
});

/** The block of `bulkhead list` output for one test: its setting lines, trimmed. */
function listed(stdout: string, id: string): string[] {
  const lines = stdout.split('\n');
  const at = lines.indexOf(id);
  assert.ok(at >= 0, `${id} is not listed:\n${stdout}`);
  const block: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (!line.startsWith('    ')) break;
    block.push(line.trim());
  }
  return block.filter((line) => !line.startsWith('memory '));
}

test('bulkhead list: effective settings and their origins, CLI > override > marker > config', async () => {
  cleanProject(project.dir); // no history: memory is "unknown" for every test
  const args = ['tests/test_precedence.py', 'tests/test_smoke.py', 'tests/test_serial_more.py', 'tests/test_slow.py', 'tests/test_groups_more.py'];
  const list = async (options: string[]) => {
    const result = await runCli({ cwd: project.dir, rawArgs: ['list', ...options, '--', ...args], env: { BULKHEAD_SCHED_DIR: undefined } });
    assert.equal(result.code, 0, describeRun(result));
    assert.deepEqual(result.leftovers, []);
    assert.doesNotMatch(result.stdout, /passed|PASSED/, 'list runs nothing');
    return result.stdout;
  };

  const plain = await list([]);
  // The run-wide settings first: what the config sets, with where it came from.
  assert.ok(
    plain.startsWith(
      [
        'run settings (other than the defaults):',
        '    mp-start-method forkserver (bulkhead.toml)',
        '    serial-markers serial, parallel_unsafe, no_parallel, one_at_a_time (bulkhead.toml)',
        '    resources model=1, kloros=1 (bulkhead.toml)',
        '',
        'tests/test_precedence.py::test_marked',
      ].join('\n'),
    ),
    plain,
  );
  // Marker beats [defaults] (timeout), override beats marker (retries): the marker said 3.
  assert.deepEqual(listed(plain, 'tests/test_precedence.py::test_marked'), [
    'timeout 5s (@pytest.mark.timeout)',
    'cpus 2 (@pytest.mark.bulkhead)',
    'retries 2 (override #3 in bulkhead.toml)',
  ]);
  assert.deepEqual(listed(plain, 'tests/test_precedence.py::test_plain'), ['timeout 30s (bulkhead.toml)', 'retries 1 (bulkhead.toml)']);
  // The overrides by glob and by marker expression, and what each selects.
  assert.deepEqual(listed(plain, 'tests/test_smoke.py::test_kloros[2]'), [
    'timeout 30s (bulkhead.toml)',
    'resources kloros=1 (override #1 in bulkhead.toml)',
    'retries 1 (bulkhead.toml)',
  ]);
  assert.deepEqual(listed(plain, 'tests/test_slow.py::test_sleeps_past_the_override_timeout'), [
    'timeout 1s (override #2 in bulkhead.toml)',
    'retries 0 (override #2 in bulkhead.toml)',
  ]);
  assert.deepEqual(listed(plain, 'tests/test_slow.py::test_slow_gpu_is_not_selected'), ['timeout 30s (bulkhead.toml)', 'retries 1 (bulkhead.toml)']);
  // Serial by a marker named in serial-markers; a group from xdist_group.
  assert.deepEqual(listed(plain, 'tests/test_serial_more.py::test_custom_serial_marker[0]'), [
    'timeout 30s (bulkhead.toml)',
    'serial (@pytest.mark.one_at_a_time)',
    'retries 1 (bulkhead.toml)',
  ]);
  assert.deepEqual(listed(plain, 'tests/test_serial_more.py::test_no_parallel'), ['timeout 30s (bulkhead.toml)', 'serial (@pytest.mark.no_parallel)', 'retries 1 (bulkhead.toml)']);
  assert.deepEqual(listed(plain, 'tests/test_groups_more.py::test_db_too'), ['timeout 30s (bulkhead.toml)', 'group db (@pytest.mark.xdist_group)', 'retries 1 (bulkhead.toml)']);
  assert.match(plain, /^18 tests; 18 with settings other than the defaults$/m);

  // The command line beats everything: the marker's timeout, the override's retries.
  const cli = await list(['--timeout', '7', '--retries', '4']);
  assert.match(cli, /^run settings \(other than the defaults\):\n {4}timeout 7s \(--timeout\)\n {4}retries 4 \(--retries\)\n {4}mp-start-method forkserver \(bulkhead\.toml\)\n/);
  assert.deepEqual(listed(cli, 'tests/test_precedence.py::test_marked'), ['timeout 7s (--timeout)', 'cpus 2 (@pytest.mark.bulkhead)', 'retries 4 (--retries)']);
  assert.deepEqual(listed(cli, 'tests/test_slow.py::test_sleeps_past_the_override_timeout'), ['timeout 7s (--timeout)', 'retries 4 (--retries)']);

  // Another config: no serial-markers (the defaults: one_at_a_time is not among them), no overrides.
  const other = await list(['--config', 'configs/plain.toml']);
  assert.match(other, /^run settings \(other than the defaults\):\n {4}resources model=1, kloros=1 \(configs\/plain\.toml\)\n\n/);
  assert.deepEqual(listed(other, 'tests/test_serial_more.py::test_custom_serial_marker[0]'), []);
  assert.deepEqual(listed(other, 'tests/test_serial_more.py::test_no_parallel'), ['serial (@pytest.mark.no_parallel)']);
  assert.deepEqual(listed(other, 'tests/test_precedence.py::test_marked'), ['timeout 5s (@pytest.mark.timeout)', 'cpus 2 (@pytest.mark.bulkhead)', 'retries 3 (@pytest.mark.bulkhead)']);
  assert.match(other, /^18 tests; 4 with settings other than the defaults$/m);
});
