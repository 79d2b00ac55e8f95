/**
 * The history store's data, as the rest of bulkhead sees it. A "test id" is pytest's node id
 * (`tests/test_x.py::test_y[param]`), exactly as it appears in the event stream.
 */
import type { MemoryControl } from '../model/event.js';

/** What past runs say about one test, for scheduling: queue order and memory admission. */
export interface TestPrediction {
  /** The median of its last 5 measured durations; null when it never ran to an end. */
  durationSeconds: number | null;
  /** The largest peak above its worker's baseline in its last 5 measured runs; null: never measured. */
  peakBytes: number | null;
  /** How many of the kept runs recorded this test (0: the store has never seen it). */
  runs: number;
  /** Its outcome in the most recent kept run (`passed`, `crashed:oom`, ...); null: never seen. */
  lastOutcome: string | null;
}

/** One test's result in one run, as stored. */
export interface TestRecord {
  testId: string;
  /** The final outcome's kind; for a crash, with its cause (`crashed:oom`, `crashed:signal`). */
  outcome: string;
  /** Null when the duration measures nothing (not run, interrupted, crashed before its end). */
  durationSeconds: number | null;
  /** Peak memory above the worker's baseline, or null where not measured. */
  peakBytes: number | null;
  /** The worker's resident size when the test started, or null where not measured. */
  baselineBytes: number | null;
}

/** One finished run, written in a single transaction. */
export interface RunRecord {
  startedAt: Date;
  finishedAt: Date;
  durationSeconds: number;
  exitCode: number;
  /** The run's end reason kind: `completed`, `maxfail`, `interrupted`, ... */
  endReason: string;
  workers: number;
  /** The rung of the resource ladder in force, or null when the run never reported one. */
  memory: MemoryControl | null;
  tests: readonly TestRecord[];
}
