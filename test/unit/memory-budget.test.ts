import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machineReserve, memoryBudget, parseBudget, parseBytes } from '../../src/scheduler/memory-budget.js';
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
