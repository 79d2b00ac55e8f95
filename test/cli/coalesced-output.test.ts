/**
 * The terminal's output gathered per synchronous burst: one write for a burst of progress
 * letters, nothing held past the burst, and an explicit flush (before stderr) keeps the order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoalescedOutput } from '../../src/cli/coalesced-output.js';

test('a burst of writes goes out as one, once the burst is over', async () => {
  const sunk: string[] = [];
  const out = new CoalescedOutput((text) => sunk.push(text));
  for (const letter of '....F..') out.write(letter);
  out.write('  [100%]\n');
  assert.deepEqual(sunk, [], 'nothing before the burst ends');
  await Promise.resolve();
  assert.deepEqual(sunk, ['....F..  [100%]\n']);
  out.write('next');
  await Promise.resolve();
  assert.deepEqual(sunk, ['....F..  [100%]\n', 'next']);
});

test('flush writes what is pending at once (before a line on stderr), and the queued flush then writes nothing', async () => {
  const sunk: string[] = [];
  const out = new CoalescedOutput((text) => sunk.push(text));
  out.write('..');
  out.flush();
  assert.deepEqual(sunk, ['..']);
  await Promise.resolve();
  assert.deepEqual(sunk, ['..']);
  out.flush();
  assert.deepEqual(sunk, ['..'], 'an empty flush writes nothing');
});
