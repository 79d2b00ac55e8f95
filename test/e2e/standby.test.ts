/**
 * `--standby`, on the `standby` project: one test crashes its worker 0.3 s in (os._exit(5)), among
 * 12 steady tests of 0.3 s. With a spare worker kept started and collected, the spare takes over
 * the crashed worker's place and the run completes exactly as without it. The time from the crash
 * to the replacement worker's first test start is measured from the tests' own log (every test
 * appends "start <pid> <time> <id>", the crashing one "crash ..." just before it exits) and
 * printed with and without --standby; it is not asserted (a shared machine's timings).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixture, describeRun, jsonOutcomes, runCli, tempDir, type CliResult, type JsonTest } from '../support/cli.js';
import { linesMatching } from '../support/output.js';

const CRASH = 'tests/test_crashes_early.py::test_crashes_early';
const STEADY = Array.from({ length: 12 }, (_, n) => `tests/test_steady.py::test_steady[${n}]`);
const EXPECTED = { [CRASH]: 'crashed', ...Object.fromEntries(STEADY.map((id) => [id, 'passed'])) };

interface LogLine {
  event: 'start' | 'crash';
  pid: number;
  at: number;
  id: string;
}

function parseLog(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [event, pid, at, ...id] = line.split(' ');
      return { event: event as LogLine['event'], pid: Number(pid), at: Number(at), id: id.join(' ') };
    });
}

interface Measured {
  result: CliResult;
  log: LogLine[];
  /** From the crash to the first test start in a worker that had run nothing before it. */
  gapMs: number;
  replacementPid: number;
}

const project = copyFixture('standby');
after(() => project.cleanup());

async function run(standby: number): Promise<Measured> {
  const logs = tempDir('standby-log');
  try {
    const logPath = join(logs.dir, 'tests.log');
    const result = await runCli({
      cwd: project.dir,
      workers: 2,
      options: standby > 0 ? ['--standby', String(standby)] : [],
      env: { BULKHEAD_STANDBY_LOG: logPath },
      pytestArgs: ['-v'],
    });
    const log = parseLog(readFileSync(logPath, 'utf8'));
    const crash = log.find((line) => line.event === 'crash');
    assert.ok(crash, describeRun(result));
    const before = new Set(log.filter((line) => line.event === 'start' && line.at <= crash.at).map((line) => line.pid));
    const first = log.find((line) => line.event === 'start' && line.at > crash.at && !before.has(line.pid));
    assert.ok(first, `a replacement worker ran a test:\n${log.map((line) => JSON.stringify(line)).join('\n')}`);
    return { result, log, gapMs: (first.at - crash.at) * 1000, replacementPid: first.pid };
  } finally {
    logs.cleanup();
  }
}

function checkRun(measured: Measured, standby: number): void {
  const { result } = measured;
  assert.equal(result.timedOut, false);
  assert.equal(result.code, 1, describeRun(result));
  const json = result.json!;
  assert.deepEqual(jsonOutcomes(json), EXPECTED);
  assert.deepEqual(json.run.end, { kind: 'completed' });
  const crashed = json.tests.find((entry) => entry.id === CRASH) as JsonTest & { isolatedRetry: string | null };
  assert.deepEqual(crashed.cause, { kind: 'exit_code', code: 5 });
  assert.equal(crashed.isolatedRetry, 'crashes on its own: run alone in a fresh worker, it exited with code 5 again');
  // Each steady test ran exactly once; the crashing one twice (the isolated retry).
  const starts = measured.log.filter((line) => line.event === 'start').map((line) => line.id);
  assert.deepEqual([...starts].sort(), [CRASH, CRASH, ...STEADY].sort());
  assert.ok(result.maxChildren <= 2 + standby, `${result.maxChildren} workers at once`);
  assert.deepEqual(result.leftovers, []);
}

const runs: Array<{ standby: number; gapMs: number }> = [];

for (const round of [1, 2, 3]) {
  test(`round ${round}, without --standby: a fresh worker replaces the crashed one`, async () => {
    const measured = await run(0);
    checkRun(measured, 0);
    assert.deepEqual(linesMatching(measured.result.stdout, /takes over/), []);
    runs.push({ standby: 0, gapMs: measured.gapMs });
  });

  test(`round ${round}, --standby 1: the spare takes over, the run completes the same`, async () => {
    const measured = await run(1);
    checkRun(measured, 1);
    // The notice names the spare, and it is the spare that ran the next test after the crash.
    const notices = linesMatching(measured.result.stdout, /^bulkhead: worker \d+ \(pid \d+\) \(standby\) takes over$/);
    assert.equal(notices.length, 1, describeRun(measured.result));
    const pid = Number(/\(pid (\d+)\)/.exec(notices[0]!)![1]);
    assert.equal(measured.replacementPid, pid);
    runs.push({ standby: 1, gapMs: measured.gapMs });
  });
}

test('crash to the replacement worker\'s first test start (printed, not asserted)', (t) => {
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  for (const standby of [0, 1]) {
    const gaps = runs.filter((entry) => entry.standby === standby).map((entry) => entry.gapMs);
    const text = `${standby ? '--standby 1' : 'no standby '}: ${gaps.map((gap) => `${gap.toFixed(0)} ms`).join(', ')} (median ${median(gaps).toFixed(0)} ms)`;
    t.diagnostic(text);
    console.log(`crash -> replacement's first test, ${text}`);
  }
});
