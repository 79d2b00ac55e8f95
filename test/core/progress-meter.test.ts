/**
 * ProgressMeter: when a worker last used a real share of a CPU, from its CPU time sampled on every
 * tick; and parseProcStat, which reads that CPU time and the stopped state from /proc.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressMeter } from '../../src/core/progress-meter.js';
import { parseProcStat } from '../../src/supervisor/platform/linux.js';

/** Feeds samples every 200 ms from `from` to `to`, the CPU time growing `ticksPerSecond`. */
function feed(meter: ProgressMeter, from: number, to: number, startTicks: number, ticksPerSecond: number, stopped = false): number {
  let ticks = startTicks;
  for (let now = from; now <= to; now += 200) {
    meter.sample(now, Math.floor(ticks), stopped);
    ticks += ticksPerSecond / 5;
  }
  return ticks;
}

test('a worker using a whole CPU makes progress at every full window', () => {
  const meter = new ProgressMeter();
  assert.equal(meter.lastProgress, null);
  feed(meter, 0, 5_000, 0, 100);
  assert.ok(meter.lastProgress !== null && meter.lastProgress >= 4_000, String(meter.lastProgress));
  assert.ok(Math.abs(meter.cpuShare! - 1) < 0.05, String(meter.cpuShare));
  // The window that showed it: about a second, ending at the last progress.
  const window = meter.lastProgress! - meter.lastProgressFrom!;
  assert.ok(window >= 1_000 && window <= 1_200, String(window));
});

test('a deadlocked worker whose GIL waiters wake every 5 ms (under 1% of a CPU) makes none', () => {
  const meter = new ProgressMeter();
  feed(meter, 0, 10_000, 500, 0.5);
  assert.equal(meter.lastProgress, null);
});

test('computing, then stuck: progress stops where the CPU time stops', () => {
  const meter = new ProgressMeter();
  const ticks = feed(meter, 0, 3_000, 0, 90);
  feed(meter, 3_200, 10_000, ticks, 0);
  // The window that still holds a little of the computing counts; none after it.
  const lastBusy = meter.lastProgress!;
  assert.ok(lastBusy >= 3_000 && lastBusy <= 4_000, String(lastBusy));
  assert.equal(meter.cpuShare, 0);
});

test('half a CPU (a loaded machine) is still progress', () => {
  const meter = new ProgressMeter();
  feed(meter, 0, 4_000, 0, 45);
  assert.ok(meter.lastProgress !== null && meter.lastProgress >= 3_000);
});

test('a stopped process makes no progress, and says it is stopped', () => {
  const meter = new ProgressMeter();
  feed(meter, 0, 4_000, 0, 100, true);
  assert.equal(meter.lastProgress, null);
  assert.equal(meter.stopped, true);
});

test('a counter that goes backwards (a new process) starts a new window', () => {
  const meter = new ProgressMeter();
  meter.sample(0, 10_000, false);
  meter.sample(1_000, 5, false);
  meter.sample(2_000, 95, false);
  assert.equal(meter.lastProgress, 2_000);
});

test('parseProcStat: CPU time (utime + stime) and the stopped state, a command name with spaces and parens', () => {
  const line = (state: string): string =>
    `4121 (python3 (a) b) ${state} 1 4121 4121 0 -1 4194560 9000 0 3 0 1234 56 0 0 20 0 5 0 100 200000000 30000 18446744073709551615`;
  assert.deepEqual(parseProcStat(line('R')), { cpuTicks: 1290, stopped: false });
  assert.deepEqual(parseProcStat(line('S')), { cpuTicks: 1290, stopped: false });
  assert.deepEqual(parseProcStat(line('T')), { cpuTicks: 1290, stopped: true });
  assert.deepEqual(parseProcStat(line('t')), { cpuTicks: 1290, stopped: true });
  assert.equal(parseProcStat('garbage'), null);
});
