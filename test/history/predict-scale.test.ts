/**
 * A 10,000-test suite: recording its runs and predicting all of it in one call. The timings are
 * printed as diagnostics (`node --test` shows them), never asserted: the machine is shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { TestRecord } from '../../src/history/index.js';
import { openStore, runRecord, tempProject } from './support.js';

const TESTS = 10_000;
const RUNS = 10;

function suiteRun(run: number): TestRecord[] {
  const records: TestRecord[] = [];
  for (let i = 0; i < TESTS; i += 1) {
    records.push({
      testId: `tests/pkg_${i % 50}/test_module_${i % 400}.py::TestCase::test_case_${i}[param-${i}]`,
      outcome: i % 97 === 0 ? 'failed' : 'passed',
      durationSeconds: ((i % 100) + run) / 100,
      peakBytes: i % 10 === 0 ? null : (i % 1000) * 1024 * 1024 + run,
      baselineBytes: 90_000_000,
    });
  }
  return records;
}

test(`predicting ${TESTS} tests with ${RUNS} runs of history`, (t) => {
  const store = openStore(t, tempProject(t));
  let recordMs = 0;
  for (let run = 0; run < RUNS; run += 1) {
    const records = suiteRun(run);
    const start = performance.now();
    store.recordRun(runRecord(records));
    recordMs += performance.now() - start;
  }
  const ids = suiteRun(0).map((record) => record.testId);

  const start = performance.now();
  const predictions = store.predict(ids);
  const predictMs = performance.now() - start;
  t.diagnostic(`record: ${(recordMs / RUNS).toFixed(0)} ms per run of ${TESTS} tests; predict ${TESTS} ids: ${predictMs.toFixed(0)} ms`);

  assert.equal(predictions.size, TESTS);
  // Test 1234 over runs 5..9 (the last 5): durations (34 + run) / 100, peaks 234 MiB + run.
  assert.deepEqual(predictions.get(ids[1234] ?? ''), {
    durationSeconds: 0.41,
    peakBytes: 234 * 1024 * 1024 + 9,
    runs: RUNS,
    lastOutcome: 'passed',
  });
  assert.deepEqual(predictions.get(ids[970] ?? ''), { durationSeconds: 0.77, peakBytes: null, runs: RUNS, lastOutcome: 'failed' });
});
