/**
 * The hand-checked path for every test's own messages (fast-decode.ts) against zod: on every
 * shared sample, and on variants of the hot samples broken one field at a time, it either
 * returns exactly what zod returns or declines (null), so that zod decides and reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fastDecode } from '../../../src/adapters/pytest/fast-decode.js';
import { decodeWorkerLine } from '../../../src/adapters/pytest/decode.js';
import { anyWorkerMessage } from '../../../src/adapters/pytest/protocol.js';
import { packageRoot } from '../../../src/util/package-root.js';

interface Samples {
  messages: Array<{ name: string; message: Record<string, unknown> }>;
  invalidMessages: Array<{ name: string; line: string }>;
}

const samples = JSON.parse(readFileSync(join(packageRoot(), 'test', 'fixtures', 'protocol-samples.json'), 'utf8')) as Samples;
const HOT = ['started', 'finished', 'heartbeat', 'collected'];

/** Agrees with zod: the same message where it accepts one; null is always allowed. */
function assertAgrees(raw: unknown, label: string): 'accepted' | 'declined' {
  const fast = fastDecode(raw);
  if (fast === null) return 'declined';
  const parsed = anyWorkerMessage.safeParse(raw);
  assert.ok(parsed.success, `${label}: accepted by hand, rejected by zod`);
  assert.deepEqual(fast, parsed.data, label);
  return 'accepted';
}

test('every valid sample: accepted by hand exactly as zod reads it, or left to zod; the usual hot ones are accepted', () => {
  const accepted: string[] = [];
  for (const sample of samples.messages) {
    if (assertAgrees(sample.message, sample.name) === 'accepted') accepted.push(sample.name);
  }
  const hot = samples.messages.filter((sample) => HOT.includes(String(sample.message['type'])));
  // The common shapes (no leaked processes, no locks) must take the fast path, or it saves nothing.
  const common = hot.filter((sample) => {
    const { leaked, locks, tests } = sample.message;
    const ours = Array.isArray(tests) && tests.some((test) => (test as Record<string, unknown>)['bulkheadMarker'] != null);
    return !ours && (leaked === undefined || (Array.isArray(leaked) && leaked.length === 0)) && (locks === undefined || (Array.isArray(locks) && locks.length === 0));
  });
  assert.ok(common.length >= 4, 'the samples hold started, heartbeat, a plain finished and a plain collection');
  for (const sample of common) assert.ok(accepted.includes(sample.name), `${sample.name}: declined`);
});

test('every invalid sample is declined by hand (zod gives the error)', () => {
  for (const sample of samples.invalidMessages) {
    let raw: unknown;
    try {
      raw = JSON.parse(sample.line);
    } catch {
      continue;
    }
    assert.equal(fastDecode(raw), null, sample.name);
    assert.equal(decodeWorkerLine(sample.line).ok, false, sample.name);
  }
});

test('hot samples broken one field at a time: never accepted unless zod accepts the same', () => {
  const breakages: unknown[] = [null, true, 'x', -1, 1.5, Infinity, [], {}, [['call']], [['collect', 1]], [['call', 'slow']], undefined];
  let tried = 0;
  for (const sample of samples.messages.filter((entry) => HOT.includes(String(entry.message['type'])))) {
    for (const key of [...Object.keys(sample.message), 'extra']) {
      for (const value of breakages) {
        const broken: Record<string, unknown> = { ...sample.message, [key]: value };
        if (value === undefined) delete broken[key];
        assertAgrees(broken, `${sample.name} with ${key}=${JSON.stringify(value)}`);
        tried += 1;
      }
    }
    const tests = sample.message['tests'];
    if (Array.isArray(tests) && tests.length > 0) {
      const first = tests[0] as Record<string, unknown>;
      for (const field of [...Object.keys(first), 'extra']) {
        for (const value of breakages) {
          const test = { ...first, [field]: value };
          if (value === undefined) delete (test as Record<string, unknown>)[field];
          assertAgrees({ ...sample.message, tests: [test, ...tests.slice(1)] }, `${sample.name} with tests.0.${field}=${JSON.stringify(value)}`);
          tried += 1;
        }
      }
    }
    const memory = sample.message['memory'];
    if (memory && typeof memory === 'object') {
      for (const field of ['baselineBytes', 'peakBytes', 'residentBytes']) {
        for (const value of breakages) {
          const broken = { ...sample.message, memory: { ...memory, [field]: value } };
          assertAgrees(broken, `${sample.name} with memory.${field}=${JSON.stringify(value)}`);
          tried += 1;
        }
      }
    }
  }
  assert.ok(tried > 100);
});

test('a line whose number overflows a double (1e400) is declined, and zod rejects it', () => {
  const line = '{"type":"finished","id":"t","leaked":[],"memory":{"baselineBytes":1e400,"peakBytes":0},"plain":[]}';
  assert.equal(fastDecode(JSON.parse(line)), null);
  assert.equal(decodeWorkerLine(line).ok, false);
});
