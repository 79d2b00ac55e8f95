/**
 * XdistIds: the gwN ids of live workers. Pool slots keep theirs across replacements, spares and
 * isolated retries never take one a live worker holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdistIds, xdistWorkerId } from '../../src/core/xdist-ids.js';

test('a pool of 2 with one spare: gw0, gw1, and gw2 for the spare', () => {
  const ids = new XdistIds();
  assert.deepEqual([ids.claim(0), ids.claim(1), ids.claim(2)], [0, 1, 2]);
  assert.equal(xdistWorkerId(2), 'gw2');
});

test('the replacement of a dead pool worker reuses its id once it has exited', () => {
  const ids = new XdistIds();
  ids.claim(0);
  ids.claim(1);
  ids.release(1);
  assert.equal(ids.claim(1), 1);
});

test('a spare that took over keeps its id; the next spare takes the one the dead worker freed', () => {
  const ids = new XdistIds();
  ids.claim(0);
  ids.claim(1);
  const spare = ids.claim(2);
  ids.release(1); // gw1 died; the spare (gw2) takes over its slot
  assert.equal(spare, 2);
  assert.equal(ids.claim(2), 1, 'a new spare prefers gw2, held by the promoted spare: it gets gw1');
});

test('an id still held is never given twice, whatever is preferred', () => {
  const ids = new XdistIds();
  const claimed = [ids.claim(0), ids.claim(0), ids.claim(-1), ids.claim(1)];
  assert.deepEqual(claimed, [0, 1, 2, 3]);
  assert.equal(new Set(claimed).size, claimed.length);
});

test('an isolated retry, started once the pool has ended, takes the lowest free id', () => {
  const ids = new XdistIds();
  ids.claim(0);
  ids.claim(1);
  ids.claim(2); // a spare, still alive
  ids.release(0);
  ids.release(1);
  assert.equal(ids.claim(0), 0);
});
