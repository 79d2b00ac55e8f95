/**
 * The store on a real SQLite file: created where it belongs, runs recorded, predictions read
 * back (median duration, largest recent peak), kept across reopening, and pruned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { KEEP_RUNS, SCHEMA_VERSION, type TestPrediction } from '../../src/history/index.js';
import { medianOfSorted } from '../../src/history/predict.js';
import { historyFile, openStore, result, runRecord, tempProject } from './support.js';

function raw(project: string): Database.Database {
  return new Database(historyFile(project), { readonly: true });
}

const UNKNOWN: TestPrediction = { durationSeconds: null, peakBytes: null, runs: 0, lastOutcome: null };

test('open creates .bulkhead/history.sqlite, in WAL mode, at the current schema version', (t) => {
  const project = tempProject(t);
  const store = openStore(t, project);
  assert.ok(existsSync(historyFile(project)));
  assert.equal(store.shownPath, '.bulkhead/history.sqlite');
  const db = raw(project);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  db.close();
});

test('predicts the median of the last 5 durations and the largest of the last 5 peaks', (t) => {
  const store = openStore(t, tempProject(t));
  const a = 't.py::a';
  // Oldest first. Run 0 falls out of both windows of 5 measurements; the runs that measured
  // nothing (not run, crashed) count as runs but not as measurements.
  const history = [
    result(a, { durationSeconds: 1000, peakBytes: 99_999 }),
    result(a, { durationSeconds: 100, peakBytes: 120 }),
    result(a, { durationSeconds: 1, peakBytes: 100 }),
    result(a, { outcome: 'failed', durationSeconds: 2, peakBytes: 150 }),
    result(a, { durationSeconds: 3, peakBytes: 300 }),
    result(a, { outcome: 'not_run', durationSeconds: null }),
    result(a, { durationSeconds: 4, peakBytes: 200, baselineBytes: 50_000_000 }),
  ];
  for (const entry of history) store.recordRun(runRecord([entry]));
  store.recordRun(runRecord([result(a, { outcome: 'crashed:signal', durationSeconds: null }), result('t.py::b', { outcome: 'not_run', durationSeconds: null })]));
  store.recordRun(runRecord([result('t.py::c', { durationSeconds: 2 })]));
  store.recordRun(runRecord([result('t.py::c', { durationSeconds: 4 })]));

  const predictions = store.predict([a, 't.py::b', 't.py::c', 't.py::never']);
  assert.equal(predictions.size, 4);
  assert.deepEqual(predictions.get(a), { durationSeconds: 3, peakBytes: 300, runs: 8, lastOutcome: 'crashed:signal' });
  assert.deepEqual(predictions.get('t.py::b'), { durationSeconds: null, peakBytes: null, runs: 1, lastOutcome: 'not_run' });
  assert.deepEqual(predictions.get('t.py::c'), { durationSeconds: 3, peakBytes: null, runs: 2, lastOutcome: 'passed' });
  assert.deepEqual(predictions.get('t.py::never'), UNKNOWN);
  assert.deepEqual(store.predict([]), new Map());
});

test('median of odd and even counts (sorted by the query)', () => {
  assert.equal(medianOfSorted([]), null);
  assert.equal(medianOfSorted([5]), 5);
  assert.equal(medianOfSorted([1, 5, 9]), 5);
  assert.equal(medianOfSorted([1, 2, 3, 4]), 2.5);
});

test('a run is written with its memory control, and kept across reopening', (t) => {
  const project = tempProject(t);
  const first = openStore(t, project);
  const memory = { mechanism: 'cgroup-v1' as const, limitBytes: 8e9, limitSource: 'cgroup', budgetBytes: 7e9, workerMaxBytes: 2e9 };
  const id = first.recordRun(runRecord([result('t.py::a', { durationSeconds: 0.5, peakBytes: 1024, baselineBytes: 4096 })], { memory, exitCode: 1 }));
  first.close();

  const db = raw(project);
  const run = db.prepare('SELECT * FROM runs WHERE id = ?').get(id);
  assert.deepEqual(run, {
    id,
    started_at: '2025-01-01T10:00:00.000Z',
    finished_at: '2025-01-01T10:01:00.000Z',
    duration_s: 60,
    exit_code: 1,
    end_reason: 'completed',
    workers: 2,
    tests: 1,
    memory_mechanism: 'cgroup-v1',
    memory_limit_bytes: 8e9,
    memory_budget_bytes: 7e9,
    worker_max_bytes: 2e9,
  });
  assert.equal(db.prepare('SELECT baseline_bytes FROM results').pluck().get(), 4096);
  db.close();

  const again = openStore(t, project);
  assert.deepEqual(again.predict(['t.py::a']).get('t.py::a'), { durationSeconds: 0.5, peakBytes: 1024, runs: 1, lastOutcome: 'passed' });
});

test('only the newest runs are kept, with their results and the test ids they use', (t) => {
  const project = tempProject(t);
  const store = openStore(t, project, { keepRuns: 3 });
  store.recordRun(runRecord([result('t.py::gone'), result('t.py::kept', { durationSeconds: 100 })]));
  store.recordRun(runRecord([result('t.py::gone'), result('t.py::kept', { durationSeconds: 100 })]));
  for (let i = 0; i < 3; i += 1) store.recordRun(runRecord([result('t.py::kept', { durationSeconds: i })]));

  const predictions = store.predict(['t.py::gone', 't.py::kept']);
  assert.deepEqual(predictions.get('t.py::gone'), UNKNOWN);
  assert.deepEqual(predictions.get('t.py::kept'), { durationSeconds: 1, peakBytes: null, runs: 3, lastOutcome: 'passed' });
  const db = raw(project);
  assert.deepEqual(db.prepare('SELECT id FROM runs ORDER BY id').pluck().all(), [3, 4, 5]);
  assert.equal(db.prepare('SELECT count(*) FROM results').pluck().get(), 3);
  assert.deepEqual(db.prepare('SELECT node_id FROM tests').pluck().all(), ['t.py::kept']);
  db.close();
});

test(`by default the last ${KEEP_RUNS} runs are kept`, (t) => {
  const project = tempProject(t);
  const store = openStore(t, project);
  for (let i = 0; i < KEEP_RUNS + 2; i += 1) store.recordRun(runRecord([result('t.py::a')]));
  const db = raw(project);
  assert.equal(db.prepare('SELECT count(*) FROM runs').pluck().get(), KEEP_RUNS);
  assert.equal(db.prepare('SELECT min(id) FROM runs').pluck().get(), 3);
  db.close();
  assert.equal(store.predict(['t.py::a']).get('t.py::a')?.runs, KEEP_RUNS);
});

test('a read that fails is a warning line, and every test is predicted as unknown', (t) => {
  const warnings: string[] = [];
  const store = openStore(t, tempProject(t), { warn: (line) => warnings.push(line) });
  store.recordRun(runRecord([result('t.py::a')]));
  store.close();
  assert.deepEqual(store.predict(['t.py::a', 't.py::b']), new Map([['t.py::a', UNKNOWN], ['t.py::b', UNKNOWN]]));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /^warning: history store \.bulkhead\/history\.sqlite could not predict 2 tests \(.*not open.*\); this run schedules without history$/);
});
