/**
 * Busy is not hung, on `test/fixtures/busy`, with --heartbeat-timeout 3: a test that holds the GIL
 * in one C call for about 8 s (catastrophic regex backtracking) is silent but computing, so it is
 * reported SLOW and passes; a test deadlocked in C while holding the GIL, one asleep in C holding
 * it, and one stopped by SIGSTOP make no progress and are reported unresponsive, with the stacks
 * faulthandler's watchdog took without a signal (the sleeping test is never woken early).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixture, describeRun, runCli, type CliResult } from '../support/cli.js';

interface SilentTest {
  id: string;
  outcome: string;
  cause: { kind: string; silentSeconds?: number; stopped?: boolean } | null;
  stacks: string | null;
  isolatedRetry: string | null;
  retryCause: { kind: string } | null;
}

const FILE = 'tests/test_silent.py';
const BUSY = `${FILE}::test_busy_in_c_holding_the_gil_then_passes`;
const DEADLOCK = `${FILE}::test_deadlocked_in_c_holding_the_gil`;
const ASLEEP = `${FILE}::test_asleep_in_c_holding_the_gil`;
const STOPPED = `${FILE}::test_stopped_by_sigstop`;

const project = copyFixture('busy');
const markers = join(project.dir, 'markers');
let result: CliResult;
let tests: Map<string, SilentTest>;

before(async () => {
  mkdirSync(markers);
  result = await runCli({
    cwd: project.dir,
    workers: 2,
    options: ['--heartbeat-timeout', '3'],
    env: { SILENT_MARKERS: markers, SILENT_BUSY_SECONDS: '8' },
    timeoutMs: 150_000,
  });
  tests = new Map(((result.json?.tests ?? []) as unknown as SilentTest[]).map((entry) => [entry.id, entry]));
});
after(() => project.cleanup());

test('the busy test passes: silence while computing is not a hang', () => {
  assert.equal(tests.get(BUSY)?.outcome, 'passed', describeRun(result));
  for (const id of [`${FILE}::test_quick_a`, `${FILE}::test_quick_b`]) assert.equal(tests.get(id)?.outcome, 'passed', id);
});

test('it is shown as SLOW, with where it is and the file its stacks are kept in', () => {
  const slow = result.stdout.split('\n').filter((line) => line.includes('SLOW') && line.includes(BUSY));
  assert.ok(slow.length >= 1, describeRun(result));
  assert.match(slow[0]!, /no heartbeat for \d+s, but busy on the CPU \(\d+% of a CPU\)/);
  assert.match(slow[0]!, /now in \w+ at \S+\.py:\d+/);
  assert.match(slow[0]!, /its Python stacks, kept fresh: \S+worker-\d+\.stacks/);
  // The other three are hung, not busy: never called SLOW (not even right after they started).
  for (const id of [DEADLOCK, ASLEEP, STOPPED]) assert.ok(!result.stdout.split('\n').some((line) => line.includes('SLOW') && line.includes(id)), id);
});

test('deadlocked, asleep and stopped: unresponsive, and again in the isolated retry', () => {
  for (const id of [DEADLOCK, ASLEEP, STOPPED]) {
    const entry = tests.get(id);
    assert.equal(entry?.outcome, 'crashed', `${id}: ${JSON.stringify(entry)}`);
    assert.equal(entry.cause?.kind, 'unresponsive', id);
    assert.ok((entry.cause?.silentSeconds ?? 0) >= 3 && (entry.cause?.silentSeconds ?? 99) < 15, `${id}: ${entry.cause?.silentSeconds}`);
    assert.match(entry.isolatedRetry ?? '', /^crashes on its own: run alone in a fresh worker, it was (unresponsive|stopped)/, id);
    assert.equal(entry.retryCause?.kind, 'unresponsive', id);
  }
  assert.equal(tests.get(STOPPED)?.cause?.stopped, true);
  assert.equal(tests.get(DEADLOCK)?.cause?.stopped, false);
  assert.match(result.stdout, /was unresponsive \(no heartbeat and no CPU time used for [\d.]+s: a deadlock\?\) and was killed while running tests\/test_silent\.py::test_deadlocked_in_c_holding_the_gil/);
  assert.match(result.stdout, /was stopped \(SIGSTOP or a debugger\) with no heartbeat for [\d.]+s, and was killed while running tests\/test_silent\.py::test_stopped_by_sigstop/);
});

test('the stacks of the hung tests come from the watchdog dump and name the test', () => {
  for (const [id, fn] of [
    [DEADLOCK, 'test_deadlocked_in_c_holding_the_gil'],
    [ASLEEP, 'test_asleep_in_c_holding_the_gil'],
  ] as const) {
    const stacks = tests.get(id)?.stacks ?? '';
    assert.match(stacks, new RegExp(`test_silent\\.py", line \\d+ in ${fn}`), `${id}: ${stacks}`);
    // The watchdog's dump, not SIGUSR1's: faulthandler heads neither with "Current thread" then.
    assert.doesNotMatch(stacks, /^Current thread/m, id);
  }
});

test('looking did not change the test: the sleep in C was never woken by a signal', () => {
  assert.deepEqual(readdirSync(markers), []);
});

test('the run: exit 1 for the three hung tests, counts add up, nothing left behind', () => {
  assert.equal(result.code, 1, describeRun(result));
  assert.match(result.stdout, /3 passed, 3 unresponsive in /);
  assert.deepEqual(result.leftovers, []);
});
