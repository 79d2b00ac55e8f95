/**
 * The ledger: the one owner of every test's attempts and results — its phase reports, the blame
 * of a death (settleDeath), a crash waiting for its isolated retry and how many retries are owed,
 * and the one final outcome, emitted exactly once per test into the event sink it is given.
 */
import { blamesTest, type ExitCause } from '../model/cause.js';
import type { LockWait, RunEventBody, TestMemory } from '../model/event.js';
import type { CrashReport, FinalOutcome, IsolatedRetry } from '../model/outcome.js';
import type { PhaseReport, PlainPhase } from '../model/report.js';
import type { LeakedProcess, TestInfo } from '../model/test.js';
import { countsAsFailure, outcomeFromReports } from './final-outcome.js';

interface PendingCrash {
  crash: CrashReport;
  /** Isolated attempts made so far, and how many passed. */
  attempts: number;
  passes: number;
}

export class Ledger {
  private tests: readonly TestInfo[] = [];
  private readonly reports = new Map<number, PhaseReport[]>();
  private readonly finished = new Set<number>();
  private readonly pending = new Map<number, PendingCrash>();
  private failureCount = 0;

  constructor(
    private readonly emit: (event: RunEventBody) => void,
    private readonly options: { retries: number; failOnFlaky: boolean },
  ) {}

  setTests(tests: readonly TestInfo[]): void {
    this.tests = tests;
  }

  private retriesFor: ((index: number) => number | null) | null = null;

  /** Per-test retries (a marker, an override or the CLI); a test without one gets the run's. */
  setRetries(retriesFor: (index: number) => number | null): void {
    this.retriesFor = retriesFor;
  }

  private retriesOf(index: number): number {
    return this.retriesFor?.(index) ?? this.options.retries;
  }

  /**
   * Failures so far as pytest counts them for --maxfail, crashes included. A crash waiting for its
   * isolated retry is not one yet: if it passes alone it is flaky, which fails nothing by default.
   */
  get failures(): number {
    return this.failureCount;
  }

  /**
   * What --maxfail counts: the failures, and the crashes still waiting for their isolated retry.
   * pytest -x stops at the first sign of trouble, and a retry runs only once nothing else does:
   * waiting for its verdict would mean running the whole suite first.
   */
  get failuresForMaxfail(): number {
    return this.failureCount + this.pending.size;
  }

  isFinished(index: number): boolean {
    return this.finished.has(index);
  }

  /** A crash waiting for its retry verdict: the test's fresh start must not mix old reports in. */
  beginAttempt(index: number): void {
    if (this.pending.has(index)) this.reports.delete(index);
  }

  /** A run of the test that was cut short for no fault of its own: forget its partial reports. */
  discardAttempt(index: number): void {
    this.reports.delete(index);
  }

  /** Returns whether the report counts as a failure (for --maxfail). */
  addReport(index: number, worker: number, report: PhaseReport): boolean {
    let reports = this.reports.get(index);
    if (!reports) {
      reports = [];
      this.reports.set(index, reports);
    }
    reports.push(report);
    // An isolated retry's reports are evidence for the verdict; the terminal shows the verdict.
    if (!this.pending.has(index)) this.emit({ type: 'test_report', worker, report });
    const failure = countsAsFailure(report) && !this.pending.has(index);
    if (failure) this.failureCount += 1;
    return failure;
  }

  /** The test ended normally (its worker lives on). Returns true when it should run again alone. */
  finishNormally(
    index: number,
    worker: number,
    leaked: LeakedProcess[],
    memory: TestMemory | null = null,
    locks: LockWait[] = [],
    plain: PlainPhase[] = [],
  ): boolean {
    const reports = this.reports.get(index) ?? [];
    this.reports.delete(index);
    const outcome = outcomeFromReports(reports, plain);
    let duration = 0;
    for (const report of reports) duration += report.duration;
    for (const [, seconds] of plain) duration += seconds;
    const pending = this.pending.get(index);
    if (pending) {
      pending.attempts += 1;
      const passed = outcome.kind !== 'failed' && outcome.kind !== 'error';
      if (passed) pending.passes += 1;
      if (passed && pending.attempts < this.retriesOf(index)) return true;
      const retry: IsolatedRetry = passed
        ? { verdict: 'passed_alone' }
        : { verdict: 'failed_alone', outcome: outcome.kind === 'failed' ? 'failed' : 'error' };
      this.settleCrash(index, worker, retry, leaked, memory, locks, duration);
      return false;
    }
    this.finish(index, worker, outcome, duration, leaked, memory, locks, plain);
    return false;
  }

  /**
   * The test's worker died while it ran. Returns true when it should run again alone (the
   * first crash of a test, with retries enabled).
   */
  crashed(index: number, crash: CrashReport, retryable: boolean): boolean {
    const pending = this.pending.get(index);
    if (pending) {
      pending.attempts += 1;
      this.settleCrash(index, crash.worker, { verdict: 'crashes_alone', attempt: crash }, []);
      return false;
    }
    const willRetry = retryable && this.retriesOf(index) > 0;
    this.emit({ type: 'test_crashed', testId: this.idOf(index), crash, willRetry });
    if (willRetry) {
      this.pending.set(index, { crash, attempts: 0, passes: 0 });
      return true;
    }
    this.failureCount += 1;
    this.finish(index, crash.worker, { kind: 'crashed', crash, retry: null }, 0, []);
    return false;
  }

  /**
   * The test's worker died while it ran, of `cause`: interrupted (the run's end), a death that is
   * not the test's fault (memory pressure: nothing recorded, it runs again alone), or a crash.
   */
  settleDeath(index: number, cause: ExitCause, crash: CrashReport): { runAgainAlone: boolean; countsAsFailure: boolean } {
    if (cause.kind === 'interrupted') {
      this.interrupted(index, crash.worker, cause.detail);
      return { runAgainAlone: false, countsAsFailure: false };
    }
    if (cause.kind === 'finished' || cause.kind === 'stopped') {
      // It ended without finishing the test it was running: that is still the test's end.
      this.interrupted(index, crash.worker, `its worker ${cause.kind === 'stopped' ? `was stopped (${cause.reason})` : 'ended'}`);
      return { runAgainAlone: false, countsAsFailure: false };
    }
    if (cause.kind === 'memory_pressure') {
      this.discardAttempt(index);
      return { runAgainAlone: true, countsAsFailure: false };
    }
    const before = this.failureCount;
    const retry = this.crashed(index, crash, blamesTest(cause) && cause.kind !== 'protocol_violation');
    return { runAgainAlone: retry, countsAsFailure: this.failureCount > before };
  }

  interrupted(index: number, worker: number, detail: string): void {
    if (this.pending.has(index)) {
      this.settleCrash(index, worker, { verdict: 'not_run', reason: detail }, []);
      return;
    }
    this.finish(index, worker, { kind: 'interrupted', detail }, 0, []);
  }

  /** The test never got to run (or to its retry): it is listed, never lost. */
  notRun(index: number, reason: string): void {
    if (this.pending.has(index)) {
      this.settleCrash(index, 0, { verdict: 'not_run', reason }, []);
      return;
    }
    this.finish(index, 0, { kind: 'not_run', reason }, 0, []);
  }

  private settleCrash(
    index: number,
    worker: number,
    retry: IsolatedRetry,
    leaked: LeakedProcess[],
    memory: TestMemory | null = null,
    locks: LockWait[] = [],
    /** The last attempt's duration: what a flaky test took when it passed alone. */
    duration = 0,
  ): void {
    const pending = this.pending.get(index)!;
    this.pending.delete(index);
    // Crashed under load and passed alone: flaky, a pass unless --fail-on-flaky. The first attempt
    // stays in the outcome, with its cause and what ran beside it.
    const outcome: FinalOutcome =
      retry.verdict === 'passed_alone' ? { kind: 'flaky', flaky: 'load', crash: pending.crash } : { kind: 'crashed', crash: pending.crash, retry };
    if (outcome.kind === 'crashed' || this.options.failOnFlaky) this.failureCount += 1;
    this.finish(index, worker || pending.crash.worker, outcome, outcome.kind === 'flaky' ? duration : 0, leaked, memory, locks);
  }

  private finish(
    index: number,
    worker: number,
    outcome: FinalOutcome,
    duration: number,
    leaked: LeakedProcess[],
    memory: TestMemory | null = null,
    locks: LockWait[] = [],
    plain: PlainPhase[] = [],
  ): void {
    if (this.finished.has(index)) return;
    this.finished.add(index);
    // Its reports are in the events now: kept no longer, so memory does not grow with the suite.
    this.reports.delete(index);
    this.emit({ type: 'test_finished', testId: this.idOf(index), worker, outcome, duration, leaked, memory, locks, plain });
  }

  private idOf(index: number): string {
    return this.tests[index]?.id ?? `#${index}`;
  }
}
