/**
 * The reporter that keeps history: it collects the run's events and writes the run in one
 * transaction when the run is over. It never influences the run: a write that fails is one
 * warning line, and the run's exit code stays what it was.
 */
import type { MemoryControl, RunEvent } from '../model/event.js';
import type { Reporter } from '../reporters/reporter.js';
import { describeError } from './open-database.js';
import { testRecord } from './outcome-record.js';
import { plural } from '../util/plural.js';
import type { HistoryStore } from './store.js';
import type { RunRecord, TestRecord } from './types.js';

export interface HistoryRecorderOptions {
  /** Where a failed write is reported (default: one line on stderr). */
  warn?: (line: string) => void;
  now?: () => Date;
}

export class HistoryRecorder implements Reporter {
  readonly name = 'history';
  private readonly warn: (line: string) => void;
  private readonly now: () => Date;
  private startedAt: Date | null = null;
  private workers = 0;
  private memory: MemoryControl | null = null;
  /** By test id: a test has one final outcome; were one repeated, the last would win. */
  private readonly tests = new Map<string, TestRecord>();
  private finished: Omit<RunRecord, 'startedAt' | 'workers' | 'memory' | 'tests'> | null = null;

  /** The recorder writes to the store but does not own it: its opener closes it. */
  constructor(
    private readonly store: HistoryStore,
    options: HistoryRecorderOptions = {},
  ) {
    this.warn = options.warn ?? ((line) => process.stderr.write(`${line}\n`));
    this.now = options.now ?? (() => new Date());
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'run_started':
        // The recorded start where there is one, so a run fed from a recording keeps its dates.
        this.startedAt = event.origin ? new Date(event.origin.startedAt) : this.now();
        this.workers = event.workers;
        break;
      case 'memory_control':
        this.memory = event.control;
        break;
      case 'test_finished':
        this.tests.set(event.testId, testRecord(event));
        break;
      case 'run_finished':
        this.finished = {
          finishedAt: this.now(),
          durationSeconds: event.durationSeconds,
          exitCode: event.exitCode,
          endReason: event.reason.kind,
        };
        break;
      default:
        break;
    }
  }

  async close(): Promise<void> {
    const run = this.run();
    if (run === null) return;
    try {
      this.store.recordRun(run);
    } catch (error) {
      this.warn(
        `warning: history store ${this.store.shownPath} could not record this run of ${plural(run.tests.length, 'test')} ` +
          `(${describeError(error)}); the next run predicts from older history`,
      );
    }
  }

  /**
   * The run to write, or null: a run that never finished is not history, and neither is a run
   * that finished no test (no tests collected, a collection error), which would only push a
   * useful run out of the kept ones.
   */
  private run(): RunRecord | null {
    if (this.finished === null || this.tests.size === 0) return null;
    const startedAt = this.startedAt ?? new Date(this.finished.finishedAt.getTime() - this.finished.durationSeconds * 1000);
    return { ...this.finished, startedAt, workers: this.workers, memory: this.memory, tests: [...this.tests.values()] };
  }
}
