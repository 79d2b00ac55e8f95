import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoWorkers, guardReserve, judgePressure, machineReserve, memoryBudget, parseBudget, parseBytes } from '../../src/scheduler/memory-budget.js';
import { formatBytes } from '../../src/util/bytes.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

test('sizes parse in binary units', () => {
  const cases: Array<[string, number | null]> = [
    ['4G', 4 * GiB],
    ['4GiB', 4 * GiB],
    ['1.5g', 1.5 * GiB],
    ['512M', 512 * MiB],
    ['512MB', 512 * MiB],
    ['2048', 2048],
    ['0', null],
    ['lots', null],
    ['12X', null],
    ['-1G', null],
  ];
  for (const [text, expected] of cases) assert.equal(parseBytes(text), expected, text);
});

test('a budget is bytes or a percentage of the effective limit', () => {
  assert.deepEqual(parseBudget('4G'), { kind: 'bytes', bytes: 4 * GiB });
  assert.deepEqual(parseBudget('80%'), { kind: 'percent', percent: 80 });
  assert.equal(parseBudget('0%'), null);
  assert.equal(parseBudget('150%'), null);
  assert.equal(memoryBudget(10 * GiB, { kind: 'percent', percent: 50 }), 5 * GiB);
  assert.equal(memoryBudget(10 * GiB, { kind: 'bytes', bytes: 3 * GiB }), 3 * GiB);
});

test('the default budget leaves the machine 1 GiB or 10%, whichever is more', () => {
  assert.equal(machineReserve(4 * GiB), GiB);
  assert.equal(machineReserve(24 * GiB), Math.floor(2.4 * GiB));
  assert.equal(memoryBudget(4 * GiB, { kind: 'default' }), 3 * GiB);
  assert.equal(memoryBudget(24 * GiB, { kind: 'default' }), 24 * GiB - Math.floor(2.4 * GiB));
  assert.equal(memoryBudget(0.5 * GiB, { kind: 'default' }), 0);
});

test('bytes are shown in binary units', () => {
  assert.equal(formatBytes(1.5 * GiB), '1.5 GiB');
  assert.equal(formatBytes(300 * MiB), '300 MiB');
  assert.equal(formatBytes(2048), '2 KiB');
  assert.equal(formatBytes(12), '12 B');
});

test('the guard keeps what the budget leaves of the limit, and at least 5% of it up to 256 MiB', () => {
  assert.equal(guardReserve(4.5 * GiB, 4 * GiB), 512 * MiB);
  assert.equal(guardReserve(24 * GiB, memoryBudget(24 * GiB, { kind: 'default' })), Math.floor(2.4 * GiB));
  // A budget of the whole limit (or more) still leaves the guard something to watch.
  assert.equal(guardReserve(4 * GiB, 4 * GiB), Math.floor(4 * GiB * 0.05));
  assert.equal(guardReserve(24 * GiB, 24 * GiB), 256 * MiB);
  assert.equal(guardReserve(24 * GiB, 30 * GiB), 256 * MiB);
  assert.equal(guardReserve(1 * GiB, 1 * GiB), Math.floor(GiB * 0.05));
});

test('pressure: evict under half the reserve, hold under it or on PSI stalls over 40%, else ok', () => {
  const reserve = 512 * MiB;
  const cases: Array<[number | null, number | null, string]> = [
    [2 * GiB, null, 'ok'],
    [2 * GiB, 0, 'ok'],
    [reserve, null, 'ok'],
    [reserve - 1, null, 'hold'],
    [reserve / 2, null, 'hold'],
    [reserve / 2 - 1, null, 'evict'],
    [0, null, 'evict'],
    [2 * GiB, 40, 'ok'],
    [2 * GiB, 40.01, 'hold'],
    [null, 90, 'hold'],
    [null, null, 'ok'],
    // Low memory wins over stalls: eviction is judged first.
    [100 * MiB, 90, 'evict'],
  ];
  for (const [available, stall, verdict] of cases) assert.equal(judgePressure(available, stall, reserve), verdict, `${available} available, ${stall}% stalled`);
});

test('--workers auto: one per CPU, fewer when the budget cannot hold each one\'s baseline plus a heavy test', () => {
  assert.equal(autoWorkers(2, 4 * GiB, null), 2, 'no history: one per CPU');
  assert.equal(autoWorkers(0, 4 * GiB, null), 1);
  assert.equal(autoWorkers(8, 4 * GiB, { baselineBytes: 100 * MiB, peakBytes: 1.4 * GiB }), 2, '4 GiB / 1.5 GiB');
  assert.equal(autoWorkers(8, 4 * GiB, { baselineBytes: 50 * MiB, peakBytes: 200 * MiB }), 8, 'the CPUs bound it');
  assert.equal(autoWorkers(8, 1 * GiB, { baselineBytes: 100 * MiB, peakBytes: 3 * GiB }), 1, 'never fewer than one');
  assert.equal(autoWorkers(4, 4 * GiB, { baselineBytes: 0, peakBytes: 0 }), 4, 'nothing measured is no bound');
});
