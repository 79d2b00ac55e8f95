/**
 * The stacks of a running test without a signal: readLatestDump takes the newest of the dumps
 * faulthandler's watchdog appended to the file, innermostFrame says where the main thread is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { innermostFrame, readLatestDump } from '../../src/supervisor/crash-file.js';

const DUMP = (line: number): string =>
  [
    'Thread 0x00007f0000000002 (most recent call first):',
    '  File "/usr/lib/python3.11/threading.py", line 324 in wait',
    '  File "/bulkhead_pytest/heartbeat.py", line 19 in beat',
    '',
    'Thread 0x00007f0000000001 (most recent call first):',
    `  File "/project/tests/test_busy.py", line ${line} in test_busy`,
    '  File "/site-packages/_pytest/python.py", line 159 in pytest_pyfunc_call',
    '',
  ].join('\n');

test('readLatestDump: the newest dump without its header; none, or no file: empty', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-dumps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'worker-1.stacks');
  assert.equal(readLatestDump(file), '');
  assert.equal(readLatestDump(null), '');
  writeFileSync(file, '');
  assert.equal(readLatestDump(file), '');
  writeFileSync(file, `Timeout (0:00:05)!\n${DUMP(10)}Timeout (0:00:10)!\n${DUMP(12)}`);
  const latest = readLatestDump(file);
  assert.ok(!latest.includes('Timeout ('), latest);
  assert.match(latest, /test_busy\.py", line 12 in test_busy/);
  assert.doesNotMatch(latest, /line 10 in test_busy/);
});

test('innermostFrame: the main thread (listed last) and its innermost frame', () => {
  assert.equal(innermostFrame(DUMP(12)), 'test_busy at /project/tests/test_busy.py:12');
  assert.equal(innermostFrame('nothing here'), null);
});
