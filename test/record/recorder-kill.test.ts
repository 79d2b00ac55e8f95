/**
 * kill -9 at any moment leaves a recording whose complete lines parse and hold every result
 * finished before the kill. A child process records a stream of big events and prints "acked N"
 * once the burst that finished test N has been handled (the recorder writes in a microtask queued
 * by the first result of a burst: the shell's synchronous handling of one channel read); the parent kills it with SIGKILL at varied moments
 * (some while a write is under way: the events are large), then reads the file back.
 *
 * Also: a process that ends without closing its recorder (an exception, process.exit) still
 * writes what was pending, and the recorder's timer never keeps a process alive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readRecording } from '../../src/record/index.js';
import { REPO_ROOT } from '../support/cli.js';
import { tempFolder } from './support.js';

const RECORDER_URL = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'record', 'recorder.js')).href;

/** The child: records test_report (32 KiB each) and test_finished pairs until killed (or 20 s). */
function childScript(path: string, mode: 'loop' | 'exit-without-close'): string {
  return `
import { EventRecorder } from ${JSON.stringify(RECORDER_URL)};
const recorder = EventRecorder.create(${JSON.stringify(path)}, { runId: 'kill', bulkhead: 'test', startedAt: '', cwd: '', argv: [] }, (line) => process.stderr.write(line + '\\n'));
if (!(recorder instanceof EventRecorder)) { process.stderr.write(recorder.failed + '\\n'); process.exit(9); }
const longrepr = 'x'.repeat(32 * 1024);
let seq = 0;
const pair = (n) => {
  recorder.onEvent({ type: 'test_report', worker: 1, report: { testId: 't' + n, longrepr }, seq: seq++, t: n });
  recorder.onEvent({ type: 'test_finished', testId: 't' + n, worker: 1, outcome: { kind: 'passed' }, duration: 0, leaked: [], memory: null, locks: [], seq: seq++, t: n });
};
if (${JSON.stringify(mode)} === 'exit-without-close') {
  pair(0);
  recorder.onEvent({ type: 'stall', seconds: 1, detail: 'pending at exit', seq: seq++, t: 1 });
  // No close: the exit handler writes the notice; the unref'd timer must not keep us alive.
} else {
  const deadline = Date.now() + 20000;
  let n = 0;
  const step = () => {
    const first = n;
    for (let i = 0; i < 5; i++, n++) pair(n);
    const last = n - 1;
    // A result is written within 20 ms: acknowledged once it is older than that.
    setTimeout(() => { for (let k = first; k <= last; k++) process.stdout.write('acked ' + k + '\\n'); }, 25);
    if (Date.now() < deadline) setImmediate(step);
  };
  step();
}
`;
}

function runChild(dir: string, script: string): ReturnType<typeof spawn> {
  const file = join(dir, 'child.mjs');
  writeFileSync(file, script);
  return spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
}

test('kill -9 at varied moments: every complete line parses, every acknowledged result is in the file', async (t) => {
  for (const killAfterAcks of [1, 7, 40, 133, 250]) {
    const dir = tempFolder(t);
    const path = join(dir, 'events.ndjson');
    const child = runChild(dir, childScript(path, 'loop'));
    t.after(() => child.kill('SIGKILL'));
    let acked = -1;
    let buffered = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) acked = Math.max(acked, Number(line.slice('acked '.length)));
      if (acked + 1 >= killAfterAcks) child.kill('SIGKILL');
    });
    // Bounded: the child stops by itself after 20 s; the kill comes long before.
    const guard = setTimeout(() => child.kill('SIGKILL'), 25_000);
    const signal = await exited;
    clearTimeout(guard);
    assert.equal(signal, 'SIGKILL');
    assert.ok(acked + 1 >= killAfterAcks, `only ${acked + 1} acked`);
    const read = readRecording(path);
    assert.ok(read.ok, read.ok ? '' : read.message);
    const finished = new Set(read.recording.events.filter((event) => event.type === 'test_finished').map((event) => (event as { testId: string }).testId));
    for (let n = 0; n <= acked; n++) assert.ok(finished.has(`t${n}`), `t${n} was acknowledged before the kill but is not in the recording (${finished.size} are)`);
    // Whatever the kill cut is at most the last line; every line before it is whole JSON.
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    for (const line of lines.slice(0, -1)) JSON.parse(line);
    t.diagnostic(`killed after ${acked + 1} acks: ${finished.size} results recorded, ${text.length} bytes, last line ${read.recording.truncatedLastLine ? 'cut short' : 'whole'}`);
  }
});

test('a process that ends without closing its recorder writes what was pending, and is not kept alive by it', async (t) => {
  const dir = tempFolder(t);
  const path = join(dir, 'events.ndjson');
  const child = runChild(dir, childScript(path, 'exit-without-close'));
  t.after(() => child.kill('SIGKILL'));
  const guard = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  clearTimeout(guard);
  assert.deepEqual([code, signal], [0, null], 'it exited by itself');
  const read = readRecording(path);
  assert.ok(read.ok);
  assert.deepEqual(read.recording.events.map((event) => event.type), ['test_report', 'test_finished', 'stall']);
});
