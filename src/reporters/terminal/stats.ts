import type { CoverageOutcome } from '../../model/coverage.js';
import type { FinalOutcome } from '../../model/outcome.js';
import type { CollectErrorReport, CollectSkipReport, Phase, PhaseReport, WarningRecord } from '../../model/report.js';

/** pytest's order of the summary line; categories it does not know follow in first-seen order. */
const KNOWN_TYPES = ['failed', 'passed', 'skipped', 'deselected', 'xfailed', 'xpassed', 'warnings', 'error'];

export type Crash = { testId: string; outcome: Extract<FinalOutcome, { kind: 'crashed' | 'flaky' }> };
export type Unfinished = { testId: string; outcome: Extract<FinalOutcome, { kind: 'interrupted' | 'not_run' }> };
export type Leak = { testId: string; processes: Array<{ pid: number; cmd: string }> };
/** A phase's duration, for --durations. */
export type Timed = { testId: string; when: Phase; duration: number };

/** The summary-line category of a crashed test: what killed its worker. */
export function crashCategory(crash: Crash): string {
  if (crash.outcome.kind === 'flaky') return 'flaky';
  switch (crash.outcome.crash.cause.kind) {
    case 'timeout':
      return 'timed out';
    case 'unresponsive':
      return 'unresponsive';
    case 'oom':
      return 'oom';
    default:
      return 'crashed';
  }
}

/** What the summary needs, grouped by pytest's report categories, in arrival order. */
export class RunStats {
  readonly reports = new Map<string, PhaseReport[]>();
  readonly collectErrors: CollectErrorReport[] = [];
  readonly crashes: Crash[] = [];
  readonly unfinished: Unfinished[] = [];
  readonly leaks: Leak[] = [];
  /** Each test's memory peak above its worker's baseline, where measured. */
  readonly memory: Array<{ testId: string; peakBytes: number }> = [];
  /** Every cross-worker lock a test took, with how long it waited for it. */
  readonly locks: Array<{ testId: string; name: string; waitedSeconds: number }> = [];
  runPeakBytes: number | null = null;
  budgetBytes: number | null = null;
  readonly warnings: WarningRecord[] = [];
  readonly collectSkips: CollectSkipReport[] = [];
  /** Every error, collection and setup/teardown, in the order pytest would list them. */
  readonly errors: Array<{ kind: 'collect'; error: CollectErrorReport } | { kind: 'test'; report: PhaseReport }> = [];
  /** Every phase with its duration, for --durations; kept only when it is asked for. */
  readonly timed: Timed[] = [];
  keepTimed = false;
  /** Teardown reports (sent whole: failed, or with output), shown beside their test's failure. */
  readonly teardowns = new Map<string, PhaseReport>();
  /** Passed calls that came as plain phases: counted, not kept (nothing of them is shown). */
  private plainPasses = 0;
  deselected = 0;
  /** pytest-cov's `--cov`, combined at the end of the run; null: not asked for. */
  coverage: CoverageOutcome | null = null;
  private readonly order: string[] = [];

  addReport(report: PhaseReport): void {
    if (this.keepTimed) this.timed.push({ testId: report.testId, when: report.when, duration: report.duration });
    if (report.when === 'teardown') this.teardowns.set(report.testId, report);
    const { category } = report.pytest;
    if (category === '') return;
    this.note(category);
    let list = this.reports.get(category);
    if (!list) {
      list = [];
      this.reports.set(category, list);
    }
    list.push(report);
    if (category === 'error') this.errors.push({ kind: 'test', report });
  }

  /** A phase that passed with nothing to show (PlainPhase). */
  addPlain(testId: string, when: Phase, duration: number): void {
    if (this.keepTimed) this.timed.push({ testId, when, duration });
    if (when !== 'call') return;
    this.note('passed');
    this.plainPasses += 1;
  }

  addCollectError(error: CollectErrorReport): void {
    this.note('error');
    this.collectErrors.push(error);
    this.errors.push({ kind: 'collect', error });
  }

  addCollectSkip(skip: CollectSkipReport): void {
    this.note('skipped');
    this.collectSkips.push(skip);
  }

  addCrash(crash: Crash): void {
    this.note(crashCategory(crash));
    this.crashes.push(crash);
  }

  addUnfinished(entry: Unfinished): void {
    this.note(entry.outcome.kind === 'interrupted' ? 'interrupted' : 'not run');
    this.unfinished.push(entry);
  }

  addWarning(warning: WarningRecord): void {
    this.note('warnings');
    this.warnings.push(warning);
  }

  count(category: string): number {
    switch (category) {
      case 'error':
        return (this.reports.get('error')?.length ?? 0) + this.collectErrors.length;
      case 'crashed':
      case 'timed out':
      case 'unresponsive':
      case 'oom':
      case 'flaky':
        return this.crashes.filter((crash) => crashCategory(crash) === category).length;
      case 'interrupted':
        return this.unfinished.filter((entry) => entry.outcome.kind === 'interrupted').length;
      case 'not run':
        return this.unfinished.filter((entry) => entry.outcome.kind === 'not_run').length;
      case 'warnings':
        return this.warnings.length;
      case 'deselected':
        return this.deselected;
      case 'skipped':
        return (this.reports.get('skipped')?.length ?? 0) + this.collectSkips.length;
      case 'passed':
        return (this.reports.get('passed')?.length ?? 0) + this.plainPasses;
      default:
        return this.reports.get(category)?.length ?? 0;
    }
  }

  /** The categories of the summary line, in pytest's order. */
  categories(): string[] {
    const unknown = this.order.filter((category) => !KNOWN_TYPES.includes(category));
    return [...KNOWN_TYPES, ...unknown].filter((category) => this.count(category) > 0);
  }

  /** pytest's main colour: red on failures or errors, yellow on warnings/xpass/unknown, else green. */
  mainColor(): 'red' | 'yellow' | 'green' {
    const present = new Set(this.categories());
    const fatal = ['failed', 'error', 'crashed', 'timed out', 'unresponsive', 'oom', 'interrupted'];
    if (fatal.some((category) => present.has(category))) return 'red';
    const unknown = [...present].some((category) => !KNOWN_TYPES.includes(category));
    if (present.has('warnings') || present.has('xpassed') || unknown) return 'yellow';
    if (present.has('passed')) return 'green';
    return 'yellow';
  }

  private note(category: string): void {
    if (!this.order.includes(category)) this.order.push(category);
  }
}
