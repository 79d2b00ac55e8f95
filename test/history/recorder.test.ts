/**
 * The recorder: a run's events in, one run in the store when it closes. What each outcome
 * leaves behind (its key, a duration only where one was measured, a peak for an OOM kill).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import type { RunEventBody } from '../../src/model/event.js';
import type { FinalOutcome } from '../../src/model/outcome.js';
import { HistoryRecorder, outcomeKey } from '../../src/history/index.js';
import { crash, event, historyFile, openStore, tempProject } from './support.js';

const SEGV = crash({ kind: 'signal', signal: 'SIGSEGV' });
const OOM = crash({ kind: 'oom', limitBytes: 2_000_000_000, peakBytes: 1_900_000_000 });
const TIMEOUT = crash({ kind: 'timeout', limitSeconds: 30 });

function finished(testId: string, outcome: FinalOutcome, duration: number, peakBytes: number | null = null): RunEventBody {
  const memory = peakBytes === null ? null : { baselineBytes: 80_000_000, peakBytes, residentBytes: null };
  return { type: 'test_finished', testId, worker: 1, outcome, duration, leaked: [], memory, locks: [] };
}

test('outcome keys: the kind, and a crash with its cause', () => {
  assert.equal(outcomeKey({ kind: 'passed' }), 'passed');
  assert.equal(outcomeKey({ kind: 'skipped', reason: 'no gpu' }), 'skipped');
  assert.equal(outcomeKey({ kind: 'crashed', crash: SEGV, retry: null }), 'crashed:signal');
  assert.equal(outcomeKey({ kind: 'crashed', crash: OOM, retry: { verdict: 'crashes_alone', attempt: OOM } }), 'crashed:oom');
  assert.equal(outcomeKey({ kind: 'flaky', flaky: 'load', crash: SEGV }), 'flaky');
});

test('a finished run is written when the recorder closes', async (t) => {
  const project = tempProject(t);
  const store = openStore(t, project);
  const times = [new Date('2025-05-01T08:00:00Z'), new Date('2025-05-01T08:02:00Z')];
  const recorder = new HistoryRecorder(store, { now: () => times.shift() ?? new Date(0), warn: (line) => assert.fail(line) });
  const bodies: RunEventBody[] = [
    { type: 'run_started', workers: 3, pytestArgs: [], cwd: project, artifactsDir: '' },
    {
      type: 'memory_control',
      control: { mechanism: 'rlimit-data+rss-watchdog', limitBytes: 8e9, limitSource: 'MemAvailable', budgetBytes: 6e9, workerMaxBytes: null },
    },
    finished('t.py::passes', { kind: 'passed' }, 0.25, 1_000_000),
    finished('t.py::skips', { kind: 'skipped', reason: 'no gpu' }, 0.001),
    finished('t.py::segfaults', { kind: 'crashed', crash: SEGV, retry: null }, 0),
    finished('t.py::eats', { kind: 'crashed', crash: OOM, retry: { verdict: 'crashes_alone', attempt: OOM } }, 0),
    finished('t.py::hangs', { kind: 'crashed', crash: TIMEOUT, retry: null }, 0),
    finished('t.py::flaky', { kind: 'flaky', flaky: 'load', crash: SEGV }, 1.5, 5_000_000),
    finished('t.py::late', { kind: 'not_run', reason: 'interrupted' }, 0),
    { type: 'run_finished', exitCode: 1, reason: { kind: 'completed' }, durationSeconds: 120 },
  ];
  for (const body of bodies) recorder.onEvent(event(body));
  assert.equal(store.predict(['t.py::passes']).get('t.py::passes')?.runs, 0, 'nothing is written before close');
  await recorder.close();

  const ids = ['t.py::passes', 't.py::skips', 't.py::segfaults', 't.py::eats', 't.py::hangs', 't.py::flaky', 't.py::late'];
  const predicted = Object.fromEntries(store.predict(ids));
  assert.deepEqual(predicted, {
    't.py::passes': { durationSeconds: 0.25, peakBytes: 1_000_000, runs: 1, lastOutcome: 'passed' },
    't.py::skips': { durationSeconds: 0.001, peakBytes: null, runs: 1, lastOutcome: 'skipped' },
    // A crash measured neither; an OOM kill keeps its peak; a timeout held its worker for its limit.
    't.py::segfaults': { durationSeconds: null, peakBytes: null, runs: 1, lastOutcome: 'crashed:signal' },
    't.py::eats': { durationSeconds: null, peakBytes: 1_900_000_000, runs: 1, lastOutcome: 'crashed:oom' },
    't.py::hangs': { durationSeconds: 30, peakBytes: null, runs: 1, lastOutcome: 'crashed:timeout' },
    't.py::flaky': { durationSeconds: 1.5, peakBytes: 5_000_000, runs: 1, lastOutcome: 'flaky' }, // what it took alone
    't.py::late': { durationSeconds: null, peakBytes: null, runs: 1, lastOutcome: 'not_run' },
  });

  const db = new Database(historyFile(project), { readonly: true });
  assert.deepEqual(db.prepare('SELECT started_at, finished_at, exit_code, workers, tests, memory_mechanism, worker_max_bytes FROM runs').all(), [
    {
      started_at: '2025-05-01T08:00:00.000Z',
      finished_at: '2025-05-01T08:02:00.000Z',
      exit_code: 1,
      workers: 3,
      tests: 7,
      memory_mechanism: 'rlimit-data+rss-watchdog',
      worker_max_bytes: null,
    },
  ]);
  assert.equal(db.prepare(`SELECT baseline_bytes FROM results r JOIN tests t ON t.id = r.test_id WHERE node_id = 't.py::passes'`).pluck().get(), 80_000_000);
  db.close();
});

test('an OOM kill without a measured peak keeps the cap it hit', async (t) => {
  const store = openStore(t, tempProject(t));
  const capOnly = crash({ kind: 'oom', limitBytes: 1_000_000_000, peakBytes: null });
  const recorder = new HistoryRecorder(store);
  recorder.onEvent(event({ type: 'run_started', workers: 1, pytestArgs: [], cwd: '', artifactsDir: '' }));
  recorder.onEvent(event(finished('t.py::eats', { kind: 'crashed', crash: capOnly, retry: null }, 0)));
  recorder.onEvent(event({ type: 'run_finished', exitCode: 1, reason: { kind: 'completed' }, durationSeconds: 3 }));
  await recorder.close();
  assert.equal(store.predict(['t.py::eats']).get('t.py::eats')?.peakBytes, 1_000_000_000);
});

test('a run that never finished, or finished no test, is not recorded', async (t) => {
  const project = tempProject(t);
  const store = openStore(t, project);
  const unfinished = new HistoryRecorder(store, { warn: (line) => assert.fail(line) });
  unfinished.onEvent(event({ type: 'run_started', workers: 1, pytestArgs: [], cwd: '', artifactsDir: '' }));
  unfinished.onEvent(event(finished('t.py::a', { kind: 'passed' }, 1)));
  await unfinished.close();

  const empty = new HistoryRecorder(store, { warn: (line) => assert.fail(line) });
  empty.onEvent(event({ type: 'run_started', workers: 1, pytestArgs: [], cwd: '', artifactsDir: '' }));
  empty.onEvent(event({ type: 'run_finished', exitCode: 5, reason: { kind: 'no_tests' }, durationSeconds: 1 }));
  await empty.close();

  const db = new Database(historyFile(project), { readonly: true });
  assert.equal(db.prepare('SELECT count(*) FROM runs').pluck().get(), 0);
  db.close();
});

test('a store that fails to write is one warning line, and close still resolves', async (t) => {
  const store = openStore(t, tempProject(t));
  const warnings: string[] = [];
  const recorder = new HistoryRecorder(store, { warn: (line) => warnings.push(line) });
  recorder.onEvent(event({ type: 'run_started', workers: 1, pytestArgs: [], cwd: '', artifactsDir: '' }));
  recorder.onEvent(event(finished('t.py::a', { kind: 'passed' }, 1)));
  recorder.onEvent(event({ type: 'run_finished', exitCode: 0, reason: { kind: 'completed' }, durationSeconds: 1 }));
  store.close();
  await recorder.close();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /^warning: history store \.bulkhead\/history\.sqlite could not record this run of 1 test \(.*not open.*\); the next run predicts from older history$/);
});
