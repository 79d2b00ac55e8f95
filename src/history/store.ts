/**
 * The history store: `<project>/.bulkhead/history.sqlite`, durations, memory peaks and outcomes
 * per test and run, read back as predictions for scheduling. Safe to delete: a missing store
 * only costs predictions, and a store that cannot be used never fails a run.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { describeError, openDatabase } from './open-database.js';
import { predictTests, UNKNOWN } from './predict.js';
import { plural } from '../util/plural.js';
import type { RunRecord, TestPrediction } from './types.js';
import { KEEP_RUNS, writeRun } from './write-run.js';

export const HISTORY_DIR = '.bulkhead';
export const HISTORY_FILE = 'history.sqlite';

export interface HistoryOpenOptions {
  /** Runs kept; older ones are pruned each time a run is recorded (default 50). */
  keepRuns?: number;
  /** How long to wait for another run's write lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Messages name the file relative to this directory (default: the process's cwd). */
  displayFrom?: string;
  /** Names the aside copy of a corrupt file. */
  now?: () => Date;
  /** Where a failed read is reported (default: one line on stderr). */
  warn?: (line: string) => void;
}

export type HistoryOpenResult =
  /** `notice`: one line to print when the store had to be repaired (a corrupt file moved aside). */
  | { kind: 'open'; store: HistoryStore; notice: string | null }
  /** `message`: one line to print; the run goes on without history. */
  | { kind: 'unavailable'; message: string };

export class HistoryStore {
  private constructor(
    private readonly db: Database.Database,
    /** The file's absolute path. */
    readonly path: string,
    /** The path as messages name it, e.g. `.bulkhead/history.sqlite`. */
    readonly shownPath: string,
    private readonly keepRuns: number,
    private readonly warn: (line: string) => void,
  ) {}

  /** Opens or creates the project's store. Never throws: a store that cannot be used is a result. */
  static open(projectDir: string, options: HistoryOpenOptions = {}): HistoryOpenResult {
    const path = resolve(projectDir, HISTORY_DIR, HISTORY_FILE);
    const shown = shownPath(path, options.displayFrom ?? process.cwd());
    const opened = openDatabase(path, shown, {
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      now: options.now ?? (() => new Date()),
    });
    if (opened.kind === 'unavailable') {
      return { kind: 'unavailable', message: `history store ${shown} is unusable (${opened.reason}); this run keeps no history` };
    }
    const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
    const store = new HistoryStore(opened.db, path, shown, Math.max(1, options.keepRuns ?? KEEP_RUNS), warn);
    return { kind: 'open', store, notice: opened.notice };
  }

  /**
   * What the kept runs say about each of these tests; every id gets an entry. Never throws: a
   * read that fails (the file damaged under a running store) is a warning line, and every test
   * is predicted as unknown.
   */
  predict(ids: readonly string[]): Map<string, Readonly<TestPrediction>> {
    try {
      return predictTests(this.db, ids);
    } catch (error) {
      this.warn(
        `warning: history store ${this.shownPath} could not predict ${plural(ids.length, 'test')} ` +
          `(${describeError(error)}); this run schedules without history`,
      );
      return new Map(ids.map((id) => [id, UNKNOWN]));
    }
  }

  /**
   * What a worker of this project needed in its latest run that measured memory: its largest
   * idle baseline and the 90th percentile of test peaks. Sizes `--workers auto`; null: unknown.
   */
  workerNeed(): { baselineBytes: number; peakBytes: number } | null {
    try {
      const run = this.db
        .prepare('SELECT run_id AS id FROM results WHERE peak_bytes IS NOT NULL ORDER BY run_id DESC LIMIT 1')
        .get() as { id: number } | undefined;
      if (!run) return null;
      const rows = this.db
        .prepare('SELECT peak_bytes AS peak, baseline_bytes AS baseline FROM results WHERE run_id = ? AND peak_bytes IS NOT NULL ORDER BY peak_bytes')
        .all(run.id) as Array<{ peak: number; baseline: number | null }>;
      const peak = rows[Math.min(rows.length - 1, Math.floor(rows.length * 0.9))]!.peak;
      const baseline = Math.max(0, ...rows.map((row) => row.baseline ?? 0));
      return { baselineBytes: baseline, peakBytes: peak };
    } catch {
      return null;
    }
  }

  /** Writes one finished run in a single transaction and prunes the oldest. Throws on failure. */
  recordRun(run: RunRecord): number {
    return writeRun(this.db, run, this.keepRuns);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Relative to `from` where the file lies inside it, else absolute. */
function shownPath(path: string, from: string): string {
  const rel = relative(from, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}
