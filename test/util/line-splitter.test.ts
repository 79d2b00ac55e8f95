import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from '../../src/util/line-splitter.js';

function splitter(max = 1024): { s: LineSplitter; lines: string[]; overflows: number[] } {
  const lines: string[] = [];
  const overflows: number[] = [];
  return { s: new LineSplitter((line) => lines.push(line), max, (bytes) => overflows.push(bytes)), lines, overflows };
}

test('whole lines in one chunk, a partial one waiting for the rest', () => {
  const { s, lines } = splitter();
  s.push(Buffer.from('one\ntwo\nthr'));
  assert.deepEqual(lines, ['one', 'two']);
  s.push(Buffer.from('ee\n'));
  assert.deepEqual(lines, ['one', 'two', 'three']);
});

test('empty lines are lines', () => {
  const { s, lines } = splitter();
  s.push(Buffer.from('\na\n\n'));
  assert.deepEqual(lines, ['', 'a', '']);
});

test('a character of several bytes split between chunks, and a line across many chunks', () => {
  const { s, lines } = splitter(1 << 20);
  const text = `${'é€😀'.repeat(5000)}`;
  const bytes = Buffer.from(`${text}\nafter\n`);
  // Chunks of 7 bytes: every kind of split inside a character happens somewhere.
  for (let i = 0; i < bytes.length; i += 7) s.push(bytes.subarray(i, i + 7));
  assert.deepEqual(lines, [text, 'after']);
});

test('a chunk buffer reused by the reader (as the journal does) does not change a waiting line', () => {
  const { s, lines } = splitter();
  const shared = Buffer.alloc(4);
  shared.write('abcd');
  s.push(shared);
  shared.write('ef\nX');
  s.push(shared);
  assert.deepEqual(lines, ['abcdef']);
  s.push(Buffer.from('\n'));
  assert.deepEqual(lines, ['abcdef', 'X']);
});

test('a line past the bound is reported once as an overflow and dropped; the next line is whole', () => {
  const { s, lines, overflows } = splitter(10);
  s.push(Buffer.from('0123456'));
  s.push(Buffer.from('789abc'));
  assert.deepEqual(overflows, [13]);
  s.push(Buffer.from('\nnext\n'));
  // What followed the overflow up to its newline is the dropped line's tail.
  assert.deepEqual(lines, ['', 'next']);
});
