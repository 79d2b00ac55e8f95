import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LONG_LINE_CHARS, RepeatedLineDecoder } from '../../src/runner/repeated-line.js';

function counting(): { decoder: RepeatedLineDecoder<{ line: string }>; calls: string[] } {
  const calls: string[] = [];
  const decoder = new RepeatedLineDecoder((line: string) => {
    calls.push(line);
    return { line };
  });
  return { decoder, calls };
}

const long = (fill: string): string => `{"type":"collected","tests":"${fill.repeat(LONG_LINE_CHARS)}"}`;

test('a long line that repeats the last long one is decoded once; both get the same message', () => {
  const { decoder, calls } = counting();
  const first = decoder.decodeLine(long('a'));
  const second = decoder.decodeLine(long('a'));
  assert.equal(calls.length, 1);
  assert.equal(second, first);
});

test('a different long line is decoded, and only the last long line is remembered', () => {
  const { decoder, calls } = counting();
  decoder.decodeLine(long('a'));
  const b = decoder.decodeLine(long('b'));
  assert.equal(b.line, long('b'));
  decoder.decodeLine(long('a'));
  assert.equal(calls.length, 3, 'a, b, then a again: one entry, not a cache');
});

test('short lines are decoded every time, and do not disturb the remembered long line', () => {
  const { decoder, calls } = counting();
  decoder.decodeLine(long('a'));
  const one = decoder.decodeLine('{"type":"heartbeat"}');
  const two = decoder.decodeLine('{"type":"heartbeat"}');
  assert.notEqual(one, two);
  decoder.decodeLine(long('a'));
  assert.equal(calls.length, 3);
});

test('a long line that differs by one character is decoded on its own', () => {
  const { decoder, calls } = counting();
  const line = long('a');
  decoder.decodeLine(line);
  const changed = `${line.slice(0, -3)}b"}`;
  assert.equal(decoder.decodeLine(changed).line, changed);
  assert.equal(calls.length, 2);
});

test('long lines that differ only in an astral character cut by the hashing are told apart', () => {
  // The hash takes the line in pieces of 16,384 UTF-16 units: put a surrogate pair across the
  // first cut, so that each piece ends or starts with half of it.
  const around = (char: string): string => `${'a'.repeat(16_383)}${char}${'a'.repeat(LONG_LINE_CHARS)}`;
  const { decoder, calls } = counting();
  decoder.decodeLine(around('\u{1F600}'));
  assert.equal(decoder.decodeLine(around('\u{1F601}')).line, around('\u{1F601}'));
  assert.equal(calls.length, 2);
});
