/**
 * Writing one finished run, and pruning the oldest, in a single transaction: a run that crashes
 * halfway leaves no half-recorded run behind.
 */
import type Database from 'better-sqlite3';
import type { RunRecord } from './types.js';

/** How many runs a project's store keeps: enough history, and a file that stops growing. */
export const KEEP_RUNS = 50;

/** Returns the new run's id. */
export function writeRun(db: Database.Database, run: RunRecord, keepRuns: number): number {
  const insertRun = db.prepare(`
    INSERT INTO runs (started_at, finished_at, duration_s, exit_code, end_reason, workers, tests,
                      memory_mechanism, memory_limit_bytes, memory_budget_bytes, worker_max_bytes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertTest = db.prepare('INSERT INTO tests (node_id) VALUES (?)');
  const allTests = db.prepare('SELECT node_id, id FROM tests').raw();
  const insertResult = db.prepare(`
    INSERT OR REPLACE INTO results (run_id, test_id, outcome, duration_s, peak_bytes, baseline_bytes)
    VALUES (?, ?, ?, ?, ?, ?)`);

  const write = db.transaction((): number => {
    const memory = run.memory;
    const runId = Number(
      insertRun.run(
        run.startedAt.toISOString(),
        run.finishedAt.toISOString(),
        run.durationSeconds,
        run.exitCode,
        run.endReason,
        run.workers,
        run.tests.length,
        memory?.mechanism ?? null,
        memory?.limitBytes ?? null,
        memory?.budgetBytes ?? null,
        memory?.workerMaxBytes ?? null,
      ).lastInsertRowid,
    );
    // The known ids in one read, not a look-up per test: at 50,000 tests that was most of the write.
    const keys = new Map(allTests.all() as Array<[string, number]>);
    for (const test of run.tests) {
      let key = keys.get(test.testId);
      if (key === undefined) {
        key = Number(insertTest.run(test.testId).lastInsertRowid);
        keys.set(test.testId, key);
      }
      insertResult.run(runId, key, test.outcome, test.durationSeconds, test.peakBytes, test.baselineBytes);
    }
    pruneRuns(db, keepRuns);
    return runId;
  });
  // IMMEDIATE takes the write lock up front. A deferred transaction would start as a reader and
  // could fail with SQLITE_BUSY when it upgrades while another run writes, without waiting.
  return write.immediate();
}

/** Deletes all but the newest `keep` runs, their results, and the test ids no result uses. */
export function pruneRuns(db: Database.Database, keep: number): number {
  const old = 'SELECT id FROM runs ORDER BY id DESC LIMIT -1 OFFSET ?';
  db.prepare(`DELETE FROM results WHERE run_id IN (${old})`).run(keep);
  const removed = db.prepare(`DELETE FROM runs WHERE id IN (${old})`).run(keep).changes;
  // Renamed and deleted tests would otherwise keep their ids forever.
  if (removed > 0) db.prepare('DELETE FROM tests WHERE NOT EXISTS (SELECT 1 FROM results WHERE test_id = tests.id)').run();
  return removed;
}
