/**
 * The protocol's lock messages and the fields added for scheduling: what decodes, what does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLockRequest } from '../../../src/adapters/messages.js';
import { decodeWorkerLine, encodeCommand } from '../../../src/adapters/pytest/decode.js';

test('lock requests decode as lock requests', () => {
  const acquire = decodeWorkerLine('{"type":"lock_acquire","name":"gpu","permits":2,"token":"4121-1"}');
  assert.deepEqual(acquire, { ok: true, message: { type: 'lock_acquire', name: 'gpu', permits: 2, token: '4121-1' } });
  assert.ok(acquire.ok && isLockRequest(acquire.message));
  const release = decodeWorkerLine('{"type":"lock_release","token":"4121-1"}');
  assert.ok(release.ok && isLockRequest(release.message));
  const heartbeat = decodeWorkerLine('{"type":"heartbeat"}');
  assert.ok(heartbeat.ok && !isLockRequest(heartbeat.message));
});

test('malformed lock requests are protocol violations', () => {
  const bad = [
    '{"type":"lock_acquire","name":"gpu","permits":0,"token":"t"}',
    '{"type":"lock_acquire","name":"gpu","permits":1.5,"token":"t"}',
    '{"type":"lock_acquire","name":"","permits":1,"token":"t"}',
    '{"type":"lock_acquire","name":"gpu","permits":1}',
    '{"type":"lock_release"}',
    '{"type":"lock_release","token":7}',
  ];
  for (const line of bad) assert.equal(decodeWorkerLine(line).ok, false, line);
});

test("a finished test's locks default to none, and carry name and wait", () => {
  const base = { type: 'finished', id: 't.py::a', leaked: [], memory: null };
  const without = decodeWorkerLine(JSON.stringify(base));
  assert.ok(without.ok && without.message.type === 'finished');
  assert.deepEqual(without.message.locks, []);
  const locks = [{ name: 'model-init', waitedSeconds: 2.5 }];
  const withLocks = decodeWorkerLine(JSON.stringify({ ...base, locks }));
  assert.ok(withLocks.ok && withLocks.message.type === 'finished');
  assert.deepEqual(withLocks.message.locks, locks);
  assert.equal(decodeWorkerLine(JSON.stringify({ ...base, locks: [{ name: 'x', waitedSeconds: -1 }] })).ok, false);
});

test('collected tests carry their bulkhead marker and xdist group, null by default', () => {
  const test = { id: 't.py::a', file: 't.py', line: 0, markers: [], scope: 't.py', timeout: null };
  const collected = (tests: object[]): string =>
    JSON.stringify({ type: 'collected', tests, deselected: 0, errors: 0, interrupted: null, exitstatus: null });
  const plain = decodeWorkerLine(collected([test]));
  assert.ok(plain.ok && plain.message.type === 'collected');
  assert.deepEqual([plain.message.tests[0]!.bulkheadMarker, plain.message.tests[0]!.xdistGroup], [null, null]);
  const marked = decodeWorkerLine(
    collected([{ ...test, bulkheadMarker: { cpus: 2, timeout: '<function <lambda> at 0x7f>' }, xdistGroup: 'models' }]),
  );
  assert.ok(marked.ok && marked.message.type === 'collected');
  assert.deepEqual(marked.message.tests[0]!.bulkheadMarker, { cpus: 2, timeout: '<function <lambda> at 0x7f>' });
  assert.equal(marked.message.tests[0]!.xdistGroup, 'models');
});

test('a grant is one line of JSON', () => {
  assert.equal(
    encodeCommand({ type: 'lock_granted', token: '4121-1', waitedSeconds: 0.5 }),
    '{"type":"lock_granted","token":"4121-1","waitedSeconds":0.5}\n',
  );
});
