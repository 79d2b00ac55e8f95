/**
 * Predictions for a whole suite in one query. The ids travel as one JSON array parameter
 * (json_each), so 10,000 tests cost one statement, not 10,000, and no temporary table.
 */
import type Database from 'better-sqlite3';
import type { TestPrediction } from './types.js';

/** How many of a test's most recent measurements a prediction looks at. */
export const PREDICTION_WINDOW = 5;

interface Row {
  /** The test's place in the ids asked for. */
  at: number;
  last_outcome: string;
  runs: number;
  /** A JSON array of up to 5 durations, smallest first. */
  durations: string;
  peak: number | null;
}

// One row per known test. Each subquery walks the results primary key (test_id, run_id)
// backwards from the test's newest run and stops after a few rows, so the cost does not grow
// with the length of the history. (Window functions over all of a suite's results were 6 to
// 25 times slower on 10,000 tests.) A row names its test by its place in the ids asked for, not
// by its id again (50,000 strings the caller already has), and its durations come sorted, for
// the median.
const QUERY = `
  SELECT j.key AS at,
    (SELECT outcome FROM results r WHERE r.test_id = t.id ORDER BY r.run_id DESC LIMIT 1) AS last_outcome,
    (SELECT count(*) FROM results r WHERE r.test_id = t.id) AS runs,
    (SELECT json_group_array(duration_s ORDER BY duration_s) FROM (
       SELECT duration_s FROM results r WHERE r.test_id = t.id AND r.duration_s IS NOT NULL
       ORDER BY r.run_id DESC LIMIT ${PREDICTION_WINDOW})) AS durations,
    (SELECT max(peak_bytes) FROM (
       SELECT peak_bytes FROM results r WHERE r.test_id = t.id AND r.peak_bytes IS NOT NULL
       ORDER BY r.run_id DESC LIMIT ${PREDICTION_WINDOW})) AS peak
  FROM json_each(?) j JOIN tests t ON t.node_id = j.value`;

/** What the store says about a test it has never seen. */
export const UNKNOWN: Readonly<TestPrediction> = { durationSeconds: null, peakBytes: null, runs: 0, lastOutcome: null };

/**
 * Every id asked for gets an entry; a test the store has never seen gets UNKNOWN (one shared,
 * read-only object). Rows are read one at a time: at 50,000 tests, all of them at once were
 * 50,000 more objects alive together at the run's busiest moment, its collection.
 */
export function predictTests(db: Database.Database, ids: readonly string[]): Map<string, Readonly<TestPrediction>> {
  const predictions = new Map<string, Readonly<TestPrediction>>();
  for (const id of ids) predictions.set(id, UNKNOWN);
  if (ids.length === 0) return predictions;

  for (const row of db.prepare(QUERY).iterate(JSON.stringify(ids)) as IterableIterator<Row>) {
    // The peak is the largest of the recent ones, not a typical one: a test's memory varies from
    // run to run, and admitting a test on its small day is how a worker gets OOM-killed.
    predictions.set(ids[row.at]!, {
      durationSeconds: medianOfSorted(JSON.parse(row.durations) as number[]),
      peakBytes: row.peak,
      runs: row.runs,
      lastOutcome: row.last_outcome,
    });
  }
  return predictions;
}

/** The median of values sorted smallest first: robust to the one slow run on a loaded machine that a mean would chase. */
export function medianOfSorted(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? upper) + upper) / 2;
}
