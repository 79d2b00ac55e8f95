/**
 * The terminal's output gathered for up to 20 ms: one write for a burst of progress letters,
 * nothing held much longer, and an explicit flush (before stderr) keeps the order.
 */
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { CoalescedOutput } from '../../src/cli/coalesced-output.js';

test('a burst of writes goes out as one, once the burst is over', async () => {
  const sunk: string[] = [];
  const out = new CoalescedOutput((text) => sunk.push(text));
  for (const letter of '....F..') out.write(letter);
  out.write('  [100%]\n');
  await Promise.resolve();
  assert.deepEqual(sunk, [], 'nothing at once');
  await sleep(60);
  assert.deepEqual(sunk, ['....F..  [100%]\n']);
  out.write('next');
  await sleep(60);
  assert.deepEqual(sunk, ['....F..  [100%]\n', 'next']);
});

test('flush writes what is pending at once (before a line on stderr), and the queued flush then writes nothing', async () => {
  const sunk: string[] = [];
  const out = new CoalescedOutput((text) => sunk.push(text));
  out.write('..');
  out.flush();
  assert.deepEqual(sunk, ['..']);
  await sleep(60);
  assert.deepEqual(sunk, ['..']);
  out.flush();
  assert.deepEqual(sunk, ['..'], 'an empty flush writes nothing');
});
