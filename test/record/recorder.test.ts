/**
 * The recorder in-process: header, one line per event, serialized on arrival, flushed at every
 * test_finished and by its timer, closed cleanly; a write that fails is one warning, never a throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunEvent } from '../../src/model/event.js';
import { EventRecorder, RECORDING_VERSION } from '../../src/record/index.js';
import { finishedBody, HEADER, numbered, STARTED, tempFolder } from './support.js';

const { format: _format, version: _version, ...HEADER_FIELDS } = HEADER;
/** The header as this bulkhead writes it: support.ts's HEADER is a version 1 recording's. */
const WRITTEN = { ...HEADER, version: RECORDING_VERSION };

function create(path: string, warnings: string[] = []): EventRecorder {
  const recorder = EventRecorder.create(path, HEADER_FIELDS, (line) => warnings.push(line));
  if (!(recorder instanceof EventRecorder)) assert.fail(recorder.failed);
  return recorder;
}

function fileLines(path: string): unknown[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);
}

test('the header at once, then every event as one line, written within 20 ms of a result, all results of that time in one write', async (t) => {
  const path = join(tempFolder(t), 'events.ndjson');
  const recorder = create(path);
  t.after(() => recorder.close());
  assert.deepEqual(fileLines(path), [WRITTEN]);
  const [started, finished] = numbered([STARTED, finishedBody('t.py::test_a')]);
  recorder.onEvent(started!);
  recorder.onEvent(finished!);
  await Promise.resolve();
  assert.deepEqual(fileLines(path), [WRITTEN], 'not a write per result');
  // Well under the 250 ms interval: the result's own timer (20 ms) wrote it.
  const begun = performance.now();
  while (fileLines(path).length < 3 && performance.now() - begun < 3000) await sleep(5);
  assert.ok(performance.now() - begun < 200, `written after ${Math.round(performance.now() - begun)} ms`);
  assert.deepEqual(fileLines(path), [WRITTEN, started, finished]);
  await recorder.close();
  assert.match(readFileSync(path, 'utf8'), new RegExp(`^\\{"format":"bulkhead-events","version":${RECORDING_VERSION},"runId":.*\\n\\{"type":"run_started".*\\n\\{"type":"test_finished".*\\n$`));
});

test('other events are written within the flush interval (250 ms), without waiting for a result', async (t) => {
  const path = join(tempFolder(t), 'events.ndjson');
  const recorder = create(path);
  t.after(() => recorder.close());
  const [started] = numbered([STARTED]);
  recorder.onEvent(started!);
  const begun = performance.now();
  while (fileLines(path).length < 2 && performance.now() - begun < 3000) await sleep(20);
  const waited = performance.now() - begun;
  assert.deepEqual(fileLines(path), [WRITTEN, started]);
  assert.ok(waited < 1000, `written after ${Math.round(waited)} ms`);
});

test('an event of megabytes is written whole, characters of every width intact', async (t) => {
  // Past 16,384 characters the text is encoded a piece at a time into one buffer.
  const path = join(tempFolder(t), 'events.ndjson');
  const recorder = create(path);
  const id = `t.py::test_${'é😀ab字'.repeat(300_000)}`;
  const [started, finished] = numbered([STARTED, finishedBody(id)]);
  recorder.onEvent(started!);
  recorder.onEvent(finished!);
  await recorder.close();
  assert.deepEqual(fileLines(path), [WRITTEN, started, finished]);
});

test('an event is recorded as it was when it arrived, whatever happens to the object later', async (t) => {
  const path = join(tempFolder(t), 'events.ndjson');
  const recorder = create(path);
  const event = numbered([{ type: 'stall', seconds: 5, detail: 'first' }])[0] as Extract<RunEvent, { type: 'stall' }>;
  recorder.onEvent(event);
  event.detail = 'changed later';
  await recorder.close();
  assert.equal((fileLines(path)[1] as { detail: string }).detail, 'first');
});

test('after close, events are ignored and the file is left whole', async (t) => {
  const path = join(tempFolder(t), 'events.ndjson');
  const recorder = create(path);
  await recorder.close();
  recorder.onEvent(numbered([STARTED])[0]!);
  await recorder.close();
  assert.deepEqual(fileLines(path), [WRITTEN]);
});

test('a file that already exists is not overwritten: the recorder says why it cannot record', (t) => {
  const path = join(tempFolder(t), 'events.ndjson');
  writeFileSync(path, 'someone else\n');
  const recorder = EventRecorder.create(path, HEADER_FIELDS, () => {});
  if (recorder instanceof EventRecorder) assert.fail('created over an existing file');
  assert.match(recorder.failed, /^EEXIST: /);
  assert.equal(readFileSync(path, 'utf8'), 'someone else\n');
});

test('a write that fails: one warning line, no exception, the recording stops there', async (t) => {
  const path = join(tempFolder(t), 'events.ndjson');
  const warnings: string[] = [];
  const recorder = create(path, warnings);
  // The file's descriptor closed under it: the next write fails (as a full disk or an I/O error would).
  closeSync((recorder as unknown as { fd: number }).fd);
  const events = numbered([STARTED, finishedBody('t.py::test_a'), finishedBody('t.py::test_b')]);
  for (const event of events) recorder.onEvent(event);
  await recorder.close();
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, new RegExp(`^bulkhead: warning: recording ${path} stopped \\(EBADF: .*\\); the run goes on, its report will be partial$`));
});
