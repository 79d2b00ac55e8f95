/**
 * The terminal reporter: pytest's own header, progress and summary, reproduced from the event
 * stream. Progress is xdist-style (results arrive from all workers at once, so there is no
 * per-file line): letters with a percentage at each line end, or with -v one line per test.
 */
import { causeLabel } from '../../model/cause.js';
import { formatBytes } from '../../util/bytes.js';
import { noticeText } from './notices.js';
import type { RunEvent } from '../../model/event.js';
import type { PytestSession } from '../../model/pytest.js';
import type { Reporter } from '../reporter.js';
import { RunStats } from './stats.js';
import { writeSummary } from './summary.js';
import { TermWriter, type Markup } from './writer.js';

const LETTER_MARKUP: Record<string, Markup> = {
  failed: { red: true },
  error: { red: true },
  passed: { green: true },
  crashed: { red: true },
};

export class TerminalReporter implements Reporter {
  readonly name = 'terminal';
  private tw: TermWriter;
  private readonly stats = new RunStats();
  /** What pytest's session says about its output; null until the first worker reports it. */
  private session: PytestSession | null = null;
  private total = 0;
  /** Tests with at least one report, as pytest counts progress. */
  private readonly reported = new Set<string>();
  private column = 0;
  private progressWritten = false;
  private memoryLine: string | null = null;
  private workers = 0;

  constructor(
    private readonly out: (text: string) => void,
    private readonly options: { color: boolean; width: number },
  ) {
    this.tw = new TermWriter(out, options.color, options.width);
  }

  onEvent(event: RunEvent): void {
    const notice = noticeText(event);
    if (notice !== null) {
      this.lineBreak();
      this.tw.line(`bulkhead: ${notice}`, { yellow: true });
      return;
    }
    switch (event.type) {
      case 'run_started':
        this.workers = event.workers;
        break;
      case 'session_info':
        this.session = event.info.pytest;
        this.stats.keepTimed = this.session.durations !== null;
        this.tw = new TermWriter(this.out, this.session.color, this.options.width);
        for (const line of this.session.headerLines) this.tw.line(line);
        if (this.memoryLine !== null && this.session.verbosity >= 0) this.tw.line(this.memoryLine);
        break;
      case 'memory_control': {
        const { control } = event;
        const cap = control.workerMaxBytes !== null ? `, worker cap ${formatBytes(control.workerMaxBytes)}` : '';
        this.memoryLine =
          `bulkhead: memory: budget ${formatBytes(control.budgetBytes)} of ${formatBytes(control.limitBytes)} ` +
          `(${control.limitSource.split(' of ')[0]})${cap}, enforced by ${control.mechanism}`;
        break;
      }
      case 'memory_summary':
        this.stats.runPeakBytes = event.runPeakBytes;
        this.stats.budgetBytes = event.budgetBytes;
        break;
      case 'collection_finished':
        this.onCollected(event.tests.length, event.deselected, event.errors.length, event.skips.length);
        for (const error of event.errors) this.stats.addCollectError(error);
        for (const skip of event.skips) this.stats.addCollectSkip(skip);
        break;
      case 'test_report':
        this.stats.addReport(event.report);
        this.reported.add(event.report.testId);
        this.progress(event.report.pytest.category, event.report.pytest.letter, event.report.pytest.word, event.report.testId, event.worker);
        break;
      case 'test_finished':
        for (const [when, duration] of event.plain ?? []) {
          this.stats.addPlain(event.testId, when, duration);
          this.reported.add(event.testId);
          if (when === 'call') this.progress('passed', '.', 'PASSED', event.testId, event.worker);
        }
        if (event.memory !== null) this.stats.memory.push({ testId: event.testId, peakBytes: event.memory.peakBytes });
        for (const lock of event.locks) this.stats.locks.push({ testId: event.testId, ...lock });
        if (event.leaked.length > 0) this.stats.leaks.push({ testId: event.testId, processes: event.leaked });
        if (event.outcome.kind === 'interrupted' || event.outcome.kind === 'not_run') {
          this.stats.addUnfinished({ testId: event.testId, outcome: event.outcome });
        }
        if (event.outcome.kind === 'crashed' || event.outcome.kind === 'flaky') {
          this.stats.addCrash({ testId: event.testId, outcome: event.outcome });
        }
        break;
      case 'test_slow': {
        this.lineBreak();
        const cpu = event.cpuPercent !== null ? ` (${event.cpuPercent}% of a CPU)` : '';
        const where = event.where ? `; now in ${event.where}` : '';
        const stacks = event.stacksFile ? `; its Python stacks, kept fresh: ${event.stacksFile}` : '';
        this.tw.line(
          `bulkhead: SLOW [w${event.worker}] ${event.testId}: no heartbeat for ${event.silentSeconds.toFixed(0)}s, but busy on the CPU${cpu} ` +
            `(a long call in C holding the GIL?): it runs on, its timeout decides${where}${stacks}`,
          { yellow: true },
        );
        break;
      }
      case 'test_crashed': {
        this.reported.add(event.testId);
        const label = causeLabel(event.crash.cause);
        this.progress('crashed', label === 'TIMEOUT' ? 'T' : 'C', label, event.testId, event.crash.worker);
        if (event.willRetry && this.verbosity > 0) this.tw.line(`[w${event.crash.worker}] ${event.testId} will run again alone in a fresh worker`);
        break;
      }

      case 'warning':
        this.stats.addWarning(event.warning);
        break;
      case 'coverage':
        this.stats.coverage = event.outcome;
        break;
      case 'run_finished':
        // No worker got as far as a pytest session (pytest rejected the arguments, say): the
        // CLI prints why on stderr, and there is no session to summarize.
        if (this.session === null && event.reason.kind === 'aborted') break;
        this.finishProgress();
        writeSummary(this.tw, this.stats, this.session, { reason: event.reason, durationSeconds: event.durationSeconds });
        break;
      default:
        break;
    }
  }

  async close(): Promise<void> {}

  private get verbosity(): number {
    return this.session?.verbosity ?? 0;
  }

  private onCollected(count: number, deselected: number, errors: number, skipped: number): void {
    this.total = count;
    this.stats.deselected = deselected;
    if (this.verbosity < 0) return;
    // pytest's own line: collected, then errors, deselected, skipped, selected.
    const collected = count + deselected;
    const parts = [`collected ${collected} item${collected === 1 ? '' : 's'}`];
    if (errors > 0) parts.push(`${errors} error${errors === 1 ? '' : 's'}`);
    if (deselected > 0) parts.push(`${deselected} deselected`);
    if (skipped > 0) parts.push(`${skipped} skipped`);
    if (deselected > 0) parts.push(`${count} selected`);
    this.tw.line(parts.join(' / '), { bold: true });
    if (count > 0 && errors === 0) this.tw.line(`bulkhead: ${this.workers} worker${this.workers === 1 ? '' : 's'} [${count} item${count === 1 ? '' : 's'}]`);
    this.tw.line();
  }

  private percent(): string {
    const value = this.total > 0 ? Math.floor((this.reported.size * 100) / this.total) : 100;
    return `[${String(Math.min(100, value)).padStart(3)}%]`;
  }

  private progress(category: string, letter: string, word: string, testId: string, worker: number): void {
    if (this.verbosity < -1) return;
    const markup = LETTER_MARKUP[category] ?? { yellow: true };
    this.progressWritten = true;
    if (this.verbosity > 0) {
      if (!word) return;
      const pct = this.percent();
      this.tw.line(`[w${worker}] ${pct} ${this.tw.markup(word, markup)} ${testId}`);
      return;
    }
    if (!letter) return;
    const room = this.tw.width - ' [100%]'.length;
    if (this.column >= room) this.endProgressLine();
    this.tw.write(letter, markup);
    this.column += letter.length;
  }

  private endProgressLine(): void {
    const pct = this.percent();
    const pad = Math.max(1, this.tw.width - this.column - pct.length);
    this.tw.line(`${' '.repeat(pad)}${pct}`, { green: true });
    this.column = 0;
  }

  private finishProgress(): void {
    if (this.column > 0) this.endProgressLine();
    if (this.verbosity >= 0 && this.progressWritten) this.tw.line();
  }

  private lineBreak(): void {
    if (this.column > 0) {
      this.tw.line();
      this.column = 0;
    }
  }
}
