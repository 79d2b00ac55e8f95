/**
 * Two runs in the same project at once: two stores on one file, and a store that must wait for
 * another process's write lock (WAL and the busy timeout), or give up with a warning.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import Database from 'better-sqlite3';
import { HistoryRecorder } from '../../src/history/index.js';
import { event, historyFile, openStore, result, runRecord, tempProject } from './support.js';

test('two stores on the same file see each other’s runs', (t) => {
  const project = tempProject(t);
  const first = openStore(t, project);
  const second = openStore(t, project);
  first.recordRun(runRecord([result('t.py::a', { durationSeconds: 2 })]));
  assert.equal(second.predict(['t.py::a']).get('t.py::a')?.runs, 1);
  second.recordRun(runRecord([result('t.py::a', { durationSeconds: 4 })]));
  assert.deepEqual(first.predict(['t.py::a']).get('t.py::a'), { durationSeconds: 3, peakBytes: null, runs: 2, lastOutcome: 'passed' });
});

/**
 * Another process that takes the write lock, says `locked`, holds it for `holdMs` and commits.
 * The test waits for its exit, so it never outlives the test.
 */
async function holdWriteLock(t: TestContext, file: string, holdMs: number): Promise<() => Promise<number | null>> {
  const script = `
    const Database = require(process.argv[1]);
    const db = new Database(process.argv[2]);
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN IMMEDIATE');
    db.prepare("INSERT INTO tests (node_id) VALUES ('held::by-the-other-run')").run();
    process.stdout.write('locked\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.argv[3]));
    db.exec('COMMIT');
    db.close();`;
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const child = spawn(process.execPath, ['-e', script, module, file, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  assert.equal(chunk.toString(), 'locked\n');
  return async () => ((await exited) as [number | null])[0];
}

test('a run waits for another process that is writing, then records', async (t) => {
  const project = tempProject(t);
  const store = openStore(t, project);
  const exit = await holdWriteLock(t, historyFile(project), 300);
  // Readers are never blocked by a writer in WAL mode.
  assert.equal(store.predict(['t.py::a']).get('t.py::a')?.runs, 0);
  store.recordRun(runRecord([result('t.py::a')]));
  assert.equal(await exit(), 0);
  const db = new Database(historyFile(project), { readonly: true });
  assert.deepEqual(db.prepare('SELECT node_id FROM tests ORDER BY id').pluck().all(), ['held::by-the-other-run', 't.py::a']);
  db.close();
});

test('a write that cannot get the lock in time is a warning line, not a failed run', async (t) => {
  const project = tempProject(t);
  const store = openStore(t, project, { busyTimeoutMs: 50 });
  const exit = await holdWriteLock(t, historyFile(project), 1000);
  const warnings: string[] = [];
  const recorder = new HistoryRecorder(store, { warn: (line) => warnings.push(line) });
  recorder.onEvent(event({ type: 'run_started', workers: 1, pytestArgs: [], cwd: project, artifactsDir: '' }));
  recorder.onEvent(event({ type: 'test_finished', testId: 't.py::a', worker: 1, outcome: { kind: 'passed' }, duration: 1, leaked: [], memory: null, locks: [] }));
  recorder.onEvent(event({ type: 'run_finished', exitCode: 0, reason: { kind: 'completed' }, durationSeconds: 1 }));
  await recorder.close();
  assert.deepEqual(warnings, [
    'warning: history store .bulkhead/history.sqlite could not record this run of 1 test (database is locked); the next run predicts from older history',
  ]);
  assert.equal(await exit(), 0);
});

test('runs that create the store at the same moment all record', async (t) => {
  const project = tempProject(t);
  // Each process opens the new file (switching it to WAL, applying migration 1) and records a run
  // at once: one migrates, the others wait for its lock and then find the schema current.
  const script = `
    const { HistoryStore } = await import(process.argv[1]);
    const opened = HistoryStore.open(process.argv[2]);
    if (opened.kind !== 'open') throw new Error(opened.message);
    opened.store.recordRun({ startedAt: new Date(), finishedAt: new Date(), durationSeconds: 1, exitCode: 0,
      endReason: 'completed', workers: 1, memory: null,
      tests: [{ testId: 't.py::a', outcome: 'passed', durationSeconds: 1, peakBytes: null, baselineBytes: null }] });
    opened.store.close();`;
  const index = new URL('../../src/history/index.js', import.meta.url).href;
  const children = [1, 2, 3].map(() =>
    spawn(process.execPath, ['--input-type=module', '-e', script, index, project], { stdio: ['ignore', 'inherit', 'inherit'] }),
  );
  t.after(() => children.forEach((child) => child.exitCode === null && child.kill('SIGKILL')));
  const codes = await Promise.all(children.map(async (child) => ((await once(child, 'exit')) as [number | null])[0]));
  assert.deepEqual(codes, [0, 0, 0]);
  const store = openStore(t, project);
  assert.equal(store.predict(['t.py::a']).get('t.py::a')?.runs, 3);
});
