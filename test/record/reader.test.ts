/**
 * Reading a recording back: tolerant where a recording can honestly be short or newer, strict
 * (one line saying what and where) where it cannot be trusted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readRecording, RECORDING_VERSION } from '../../src/record/index.js';
import { finishedBody, HEADER, lines, numbered, STARTED, tempFolder, writeRecording } from './support.js';

const EVENTS = numbered([STARTED, finishedBody('t.py::test_a'), finishedBody('t.py::test_b')]);

test('a whole recording: its header and its events, in order', (t) => {
  const path = writeRecording(tempFolder(t), lines([HEADER, ...EVENTS]));
  const read = readRecording(path);
  assert.ok(read.ok);
  assert.deepEqual(read.recording.header, HEADER);
  assert.deepEqual(read.recording.events, EVENTS);
  assert.equal(read.recording.truncatedLastLine, false);
  assert.equal(read.recording.skipped.size, 0);
});

test('a last line cut short (killed while writing it) is ignored; a whole last line without its newline is kept', (t) => {
  const dir = tempFolder(t);
  const whole = lines([HEADER, ...EVENTS]);
  const cut = readRecording(writeRecording(dir, whole.slice(0, whole.length - 20), 'cut.ndjson'));
  assert.ok(cut.ok);
  assert.deepEqual(cut.recording.events, EVENTS.slice(0, 2));
  assert.equal(cut.recording.truncatedLastLine, true);
  const noNewline = readRecording(writeRecording(dir, whole.slice(0, -1), 'no-newline.ndjson'));
  assert.ok(noNewline.ok);
  assert.deepEqual(noNewline.recording.events, EVENTS);
});

test('event types this bulkhead does not know are skipped and counted, the rest kept', (t) => {
  const future = [
    { type: 'test_quarantined', testId: 't.py::test_a', deliveries: 3, seq: 1, t: 1 },
    { type: 'gpu_sample', worker: 1, usedBytes: 10, seq: 2, t: 2 },
    { type: 'gpu_sample', worker: 2, usedBytes: 10, seq: 3, t: 3 },
  ];
  const path = writeRecording(tempFolder(t), lines([HEADER, EVENTS[0], ...future, { ...EVENTS[1], seq: 4 }]));
  const read = readRecording(path);
  assert.ok(read.ok);
  assert.deepEqual(read.recording.events.map((event) => event.type), ['run_started', 'test_finished']);
  assert.deepEqual([...read.recording.skipped], [['test_quarantined', 1], ['gpu_sample', 2]]);
});

test('a newer format version: refused, saying which version and which bulkhead wrote it', (t) => {
  const path = writeRecording(tempFolder(t), lines([{ ...HEADER, version: RECORDING_VERSION + 1, bulkhead: '0.4.0' }, ...EVENTS]));
  const read = readRecording(path);
  assert.deepEqual(read, {
    ok: false,
    kind: 'newer',
    message: `${path} is a version ${RECORDING_VERSION + 1} recording (written by bulkhead 0.4.0); this bulkhead reads version ${RECORDING_VERSION}: replay it with bulkhead 0.4.0 or later`,
  });
});

test('missing, empty, not a recording, corrupt in the middle: one line saying what and where', (t) => {
  const dir = tempFolder(t);
  const cases: Array<[text: string | null, message: RegExp]> = [
    [null, /^cannot read recording .*\/absent\.ndjson: no such file$/],
    ['', /^.*\/case-1\.ndjson is empty: not a bulkhead recording$/],
    ['{"format":"something-else"}\n', /^.*\/case-2\.ndjson:1: not a bulkhead recording: its first line has no format 'bulkhead-events'$/],
    ['hello\n', /^.*\/case-3\.ndjson:1: not a bulkhead recording: not JSON \(.*\)$/],
    [lines([HEADER, EVENTS[0], '{"type":"test_fin', EVENTS[2]]), /^.*\/case-4\.ndjson:3: corrupt recording: not JSON \(.*\)$/],
    [lines([HEADER, EVENTS[0], { type: 'stall', detail: 'x' }]), /^.*\/case-5\.ndjson:3: corrupt recording: a stall event without its seq and t$/],
    [lines([HEADER, EVENTS[1], EVENTS[0]]), /^.*\/case-6\.ndjson:3: corrupt recording: event seq 0 after 1$/],
    [lines([HEADER, [1, 2]]), /^.*\/case-7\.ndjson:2: corrupt recording: not a JSON object$/],
  ];
  cases.forEach(([text, message], index) => {
    const path = text === null ? join(dir, 'absent.ndjson') : writeRecording(dir, text, `case-${index}.ndjson`);
    const read = readRecording(path);
    assert.equal(read.ok, false, `case ${index}`);
    if (!read.ok) {
      assert.equal(read.kind, 'unreadable');
      assert.match(read.message, message);
      assert.ok(!read.message.includes('\n'), read.message);
    }
  });
  const folder = readRecording(dir);
  assert.ok(!folder.ok && /: a folder, not a file$/.test(folder.message));
});
