/**
 * Longest-first from history, end to end: a project whose longest test is collected last. The
 * first run (no history) starts it last; the second run, with the durations the first recorded,
 * starts it first. Orders of starts only, read from the tests' own log: no timing is asserted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, runCli, tempDir } from '../support/cli.js';
import { readIntervals } from '../support/overlap.js';

const LONG = 'test_z_slow.py::test_long';
let project: { dir: string; cleanup(): void };

before(() => {
  project = tempDir('bulkhead-longest-first-');
  const dir = project.dir;
  writeFileSync(join(dir, 'pytest.ini'), '[pytest]\n');
  writeFileSync(
    join(dir, 'conftest.py'),
    [
      'import os, time',
      '',
      'def nap(nodeid, seconds):',
      '    with open(os.environ["ORDER_LOG"], "a") as out:',
      '        out.write(f"{nodeid} start {time.time()}\\n")',
      '    time.sleep(seconds)',
      '    with open(os.environ["ORDER_LOG"], "a") as out:',
      '        out.write(f"{nodeid} end {time.time()}\\n")',
      '',
    ].join('\n'),
  );
  const short = (module: string, n: number): string => `def test_${n}():\n    nap("${module}::test_${n}", 0.05)\n`;
  writeFileSync(join(dir, 'test_a.py'), `from conftest import nap\n\n${[0, 1, 2, 3, 4, 5, 6, 7].map((n) => short('test_a.py', n)).join('\n')}`);
  writeFileSync(
    join(dir, 'test_z_slow.py'),
    `from conftest import nap\n\n${[0, 1, 2].map((n) => short('test_z_slow.py', n)).join('\n')}\ndef test_long():\n    nap("${LONG}", 1.5)\n`,
  );
});

after(() => project.cleanup());

/** The test ids in the order they started. */
async function run(label: string): Promise<string[]> {
  const log = join(project.dir, `${label}.log`);
  const result = await runCli({ cwd: project.dir, workers: 2, junit: false, env: { ORDER_LOG: log }, timeoutMs: 120_000 });
  assert.equal(result.code, 0, describeRun(result));
  assert.equal(result.json?.summary.passed, 12, JSON.stringify(result.json?.summary));
  return readIntervals(log).map((interval) => interval.id);
}

test('cold, the longest test (collected last) starts after its module\'s short tests; with history, among the first two', async () => {
  const cold = await run('cold');
  assert.equal(cold.length, 12);
  // Collection order: the worker that takes the slow module runs its three short tests first.
  assert.ok(cold.indexOf(LONG) > cold.indexOf('test_z_slow.py::test_2'), `cold order: ${cold.join(' ')}`);
  const warm = await run('history');
  assert.equal(warm.length, 12);
  // Two workers start at about the same time: the long test is one of the two first starts.
  assert.ok(warm.indexOf(LONG) <= 1, `order with history: ${warm.join(' ')}`);
});
