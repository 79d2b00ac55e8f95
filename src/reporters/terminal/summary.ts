/**
 * The end-of-run sections, in pytest's order and format: ERRORS, FAILURES, warnings summary,
 * PASSES, coverage, slowest durations, short test summary info, and the final stats line.
 */
import { causeLabel } from '../../model/cause.js';
import { describeBeside, describeCrash, describeCrashFully, describeRetry } from '../../model/outcome.js';
import { formatBytes } from '../../util/bytes.js';
import type { RunEndReason } from '../../model/event.js';
import type { PytestSession } from '../../model/pytest.js';
import type { PhaseReport } from '../../model/report.js';
import type { Crash, RunStats } from './stats.js';
import { writeCoverage } from './coverage.js';
import { formatSessionDuration, pluralize, type TermWriter } from './writer.js';

const COLOR_FOR: Record<string, 'red' | 'green' | 'yellow'> = {
  failed: 'red',
  error: 'red',
  crashed: 'red',
  'timed out': 'red',
  unresponsive: 'red',
  oom: 'red',
  interrupted: 'red',
  warnings: 'yellow',
  passed: 'green',
};

export function crashText(crash: Crash): string {
  return describeCrash(crash.testId, crash.outcome.crash);
}

export function writeSummary(
  tw: TermWriter,
  stats: RunStats,
  session: PytestSession | null,
  end: { reason: RunEndReason; durationSeconds: number },
): void {
  const showTracebacks = (session?.tbStyle ?? 'auto') !== 'no';
  if (showTracebacks) {
    writeErrors(tw, stats, session);
    writeFailures(tw, stats, session);
  }
  writeWarnings(tw, stats);
  writeLeaks(tw, stats);
  writeFlaky(tw, stats);
  if ((session?.verbosity ?? 0) >= 0) writeMemory(tw, stats);
  if ((session?.verbosity ?? 0) >= 0) writeLocks(tw, stats);
  if (session?.reportChars.includes('P') || session?.reportChars.includes('A')) writePasses(tw, stats, session);
  // pytest's junitxml says where it wrote (pytest's own --junitxml only, which bulkhead writes).
  if (session?.junit?.xmlpath && (session.verbosity ?? 0) >= 0) tw.sep('-', `generated xml file: ${session.junit.xmlpath}`);
  writeCoverage(tw, stats.coverage);
  writeDurations(tw, stats, session);
  writeShortSummary(tw, stats, session);
  writeUnfinished(tw, stats, end.reason);
  writeEnd(tw, end.reason);
  // pytest does not count tests a stop left unrun (-x, collection errors); bulkhead's own stops do.
  const countUnrun = end.reason.kind === 'interrupted' || end.reason.kind === 'aborted';
  writeStatsLine(tw, stats, end.durationSeconds, (session?.verbosity ?? 0) >= 0, countUnrun);
}

function writeSections(tw: TermWriter, report: PhaseReport, session: PytestSession | null, only?: string): void {
  const show = session?.showCapture ?? 'all';
  if (show === 'no') return;
  for (const [title, content] of report.sections) {
    if (show !== 'all' && !title.includes(show)) continue;
    if (only !== undefined && !title.includes(only)) continue;
    tw.sep('-', title);
    tw.line(content.endsWith('\n') ? content.slice(0, -1) : content);
  }
}

function writeErrors(tw: TermWriter, stats: RunStats, session: PytestSession | null): void {
  if (stats.errors.length === 0) return;
  tw.sep('=', 'ERRORS');
  for (const entry of stats.errors) {
    if (entry.kind === 'collect') {
      tw.sep('_', `ERROR collecting ${entry.error.nodeid}`, { red: true, bold: true });
      tw.line(entry.error.pytest.longreprTerminal);
    } else {
      tw.sep('_', `ERROR at ${entry.report.when} of ${entry.report.pytest.headLine}`, { red: true, bold: true });
      if (entry.report.pytest.longreprTerminal) tw.line(entry.report.pytest.longreprTerminal);
      writeSections(tw, entry.report, session);
    }
  }
}

function writeFailures(tw: TermWriter, stats: RunStats, session: PytestSession | null): void {
  const failed = stats.reports.get('failed') ?? [];
  if (failed.length === 0 && stats.crashes.length === 0) return;
  tw.sep('=', 'FAILURES');
  const { teardowns } = stats;
  for (const report of failed) {
    if ((session?.tbStyle ?? 'auto') === 'line') {
      tw.line(report.pytest.longreprTerminal);
      continue;
    }
    tw.sep('_', report.pytest.headLine, { red: true, bold: true });
    if (report.pytest.longreprTerminal) tw.line(report.pytest.longreprTerminal);
    writeSections(tw, report, session);
    const teardown = teardowns.get(report.testId);
    if (teardown && teardown !== report) writeSections(tw, teardown, session, 'teardown');
  }
  for (const crash of stats.crashes) {
    if (crash.outcome.kind === 'flaky') continue;
    writeCrash(tw, crash);
  }
}

function writeCrash(tw: TermWriter, entry: Crash): void {
  const { crash } = entry.outcome;
  tw.sep('_', entry.testId, { red: true, bold: true });
  tw.line(tw.markup(`E   ${crashText(entry)}`, { red: true, bold: true }));
  const beside = describeBeside(crash);
  if (beside) tw.line(tw.markup(`E   ${beside}`, { red: true }));
  if (entry.outcome.kind === 'crashed' && entry.outcome.retry !== null) {
    const retry = entry.outcome.retry;
    tw.line(tw.markup(`E   isolated retry: ${describeRetry(retry)}`, { red: retry.verdict === 'crashes_alone', yellow: retry.verdict !== 'crashes_alone' }));
  }
  if (crash.stacks.trim()) {
    tw.sep('-', 'Python stacks (faulthandler)');
    tw.line(crash.stacks.replace(/\s+$/, ''));
  }
  if (crash.stderrTail.trim()) {
    tw.sep('-', 'worker stderr (last lines)');
    tw.line(crash.stderrTail.replace(/\s+$/, ''));
  }
}

/**
 * Tests that failed only under parallel load and passed alone: they count as passed (unless
 * --fail-on-flaky), so they are told loudly here, each with its first attempt's cause, numbers,
 * and what ran beside it.
 */
function writeFlaky(tw: TermWriter, stats: RunStats): void {
  const flaky = stats.crashes.filter((crash) => crash.outcome.kind === 'flaky');
  if (flaky.length === 0) return;
  tw.sep('=', 'flaky: failed only under parallel load, passed alone', { yellow: true });
  for (const entry of flaky) {
    tw.line(tw.markup(`FLAKY ${entry.testId}`, { yellow: true, bold: true }));
    tw.line(`    under load: ${describeCrash(entry.testId, entry.outcome.crash)}`);
    const beside = describeBeside(entry.outcome.crash);
    if (beside) tw.line(`    ${beside}`);
    const alone = stats.memory.find((memory) => memory.testId === entry.testId);
    tw.line(`    alone in a fresh worker: passed${alone ? ` (peak ${formatBytes(alone.peakBytes)} above its worker's baseline)` : ''}`);
  }
}

function writeMemory(tw: TermWriter, stats: RunStats): void {
  if (stats.budgetBytes === null || (stats.runPeakBytes === null && stats.memory.length === 0)) return;
  const biggest = [...stats.memory].sort((a, b) => b.peakBytes - a.peakBytes).slice(0, 3).filter((entry) => entry.peakBytes > 0);
  const peak = stats.runPeakBytes !== null ? `run peak ${formatBytes(stats.runPeakBytes)} of budget ${formatBytes(stats.budgetBytes)}` : `budget ${formatBytes(stats.budgetBytes)}`;
  const tests = biggest.map((entry) => `${entry.testId} (${formatBytes(entry.peakBytes)})`).join(', ');
  tw.sep('=', 'memory', { cyan: true });
  tw.line(`memory: ${peak}${tests ? `; biggest tests: ${tests}` : ''}`);
}

/** One line per lock name: how often it was taken, the time spent waiting for it, the longest wait. */
function writeLocks(tw: TermWriter, stats: RunStats): void {
  if (stats.locks.length === 0) return;
  const byName = new Map<string, Array<{ testId: string; waitedSeconds: number }>>();
  for (const { name, ...wait } of stats.locks) byName.set(name, [...(byName.get(name) ?? []), wait]);
  tw.sep('=', 'locks', { cyan: true });
  for (const [name, waits] of byName) {
    const total = waits.reduce((sum, wait) => sum + wait.waitedSeconds, 0);
    const longest = waits.reduce((a, b) => (b.waitedSeconds > a.waitedSeconds ? b : a));
    const taken = `taken ${waits.length} time${waits.length === 1 ? '' : 's'}`;
    const worst = longest.waitedSeconds > 0 ? `, longest ${longest.waitedSeconds.toFixed(2)}s by ${longest.testId}` : '';
    tw.line(`lock '${name}': ${taken}, waited ${total.toFixed(2)}s in all${worst}`);
  }
}

function writeLeaks(tw: TermWriter, stats: RunStats): void {
  if (stats.leaks.length === 0) return;
  tw.sep('=', 'processes left running by tests (killed)', { yellow: true });
  for (const leak of stats.leaks) {
    const count = leak.processes.length;
    const what = leak.processes.map((process) => `${process.cmd} (pid ${process.pid})`).join(', ');
    tw.line(`${leak.testId}: leaked ${count} process${count === 1 ? '' : 'es'}: ${what}`);
  }
}

function writeUnfinished(tw: TermWriter, stats: RunStats, reason: RunEndReason): void {
  if (reason.kind !== 'interrupted' && reason.kind !== 'aborted') return;
  if (stats.unfinished.length === 0) return;
  tw.sep('=', 'not run', { yellow: true });
  for (const entry of stats.unfinished.slice(0, 200)) {
    const word = entry.outcome.kind === 'interrupted' ? 'INTERRUPTED' : 'NOT RUN';
    tw.line(`${tw.markup(word, { yellow: true })} ${entry.testId}`);
  }
  if (stats.unfinished.length > 200) tw.line(`... and ${stats.unfinished.length - 200} more (all listed in --json)`);
}

function writeWarnings(tw: TermWriter, stats: RunStats): void {
  if (stats.warnings.length === 0) return;
  const byMessage = new Map<string, string[]>();
  for (const warning of stats.warnings) {
    const locations = byMessage.get(warning.message) ?? [];
    if (warning.location) locations.push(warning.location);
    byMessage.set(warning.message, locations);
  }
  tw.sep('=', 'warnings summary', { yellow: true, bold: false });
  for (const [message, locations] of byMessage) {
    let where = '';
    if (locations.length < 10) {
      where = locations.join('\n');
    } else {
      const perFile = new Map<string, number>();
      for (const location of locations) {
        const file = location.split('::', 1)[0]!;
        perFile.set(file, (perFile.get(file) ?? 0) + 1);
      }
      where = [...perFile].map(([file, count]) => `${file}: ${count} warning${count > 1 ? 's' : ''}`).join('\n');
    }
    if (where) {
      tw.line(where);
      tw.line(message.split('\n').map((line) => `  ${line}`).join('\n').trimEnd());
    } else {
      tw.line(message.trimEnd());
    }
    tw.line();
  }
  tw.line('-- Docs: https://docs.pytest.org/en/stable/how-to/capture-warnings.html');
}

function writePasses(tw: TermWriter, stats: RunStats, session: PytestSession | null): void {
  const passed = (stats.reports.get('passed') ?? []).filter((report) => report.sections.length > 0);
  if (passed.length === 0) return;
  tw.sep('=', 'PASSES');
  for (const report of passed) {
    tw.sep('_', report.pytest.headLine, { green: true, bold: true });
    writeSections(tw, report, session);
  }
}

function writeDurations(tw: TermWriter, stats: RunStats, session: PytestSession | null): void {
  if (!session || session.durations === null || stats.timed.length === 0) return;
  const verbose = session.verbosity;
  const minimum = session.durationsMin ?? (verbose < 2 ? 0.005 : 0);
  let list = [...stats.timed].sort((a, b) => b.duration - a.duration);
  if (session.durations === 0) {
    tw.sep('=', 'slowest durations');
  } else {
    tw.sep('=', `slowest ${session.durations} durations`);
    list = list.slice(0, session.durations);
  }
  for (let i = 0; i < list.length; i += 1) {
    const report = list[i]!;
    if (report.duration < minimum) {
      tw.line('');
      let message = `(${list.length - i} durations < ${formatG(minimum)}s hidden.`;
      if (session.durationsMin === null) message += '  Use -vv to show these durations.';
      tw.line(`${message})`);
      break;
    }
    tw.line(`${report.duration.toFixed(2)}s ${report.when.padEnd(8)} ${report.testId}`);
  }
}

function formatG(value: number): string {
  return String(Number(value.toPrecision(6)));
}

function writeShortSummary(tw: TermWriter, stats: RunStats, session: PytestSession | null): void {
  const chars = session?.reportChars ?? 'fE';
  const lines: string[] = [];
  const word = (text: string, color: 'red' | 'yellow' | 'green'): string => tw.markup(text, { [color]: true });
  for (const char of chars) {
    switch (char) {
      case 'f':
        for (const report of stats.reports.get('failed') ?? []) lines.push(report.pytest.summaryLine);
        for (const crash of stats.crashes) {
          if (crash.outcome.kind === 'flaky') {
            lines.push(`${word('FLAKY', 'yellow')} ${crash.testId} - ${describeRetry({ verdict: 'passed_alone' })}: ${describeCrashFully(crash.testId, crash.outcome.crash)}`);
            continue;
          }
          const retry = crash.outcome.retry ? ` [${describeRetry(crash.outcome.retry).split(':')[0]}]` : '';
          lines.push(`${word(causeLabel(crash.outcome.crash.cause), 'red')} ${crash.testId} - ${crashText(crash)}${retry}`);
        }
        break;
      case 'E':
        for (const entry of stats.errors) {
          lines.push(entry.kind === 'collect' ? entry.error.pytest.summaryLine : entry.report.pytest.summaryLine);
        }
        break;
      case 'p':
        for (const report of stats.reports.get('passed') ?? []) lines.push(report.pytest.summaryLine);
        break;
      case 's':
        lines.push(...foldedSkips(stats).map((line) => `${word('SKIPPED', 'yellow')} ${line}`));
        break;
      case 'x':
        for (const report of stats.reports.get('xfailed') ?? []) {
          lines.push(`${word('XFAIL', 'yellow')} ${report.testId}${report.xfailReason ? ` - ${report.xfailReason}` : ''}`);
        }
        break;
      case 'X':
        for (const report of stats.reports.get('xpassed') ?? []) {
          lines.push(`${word('XPASS', 'yellow')} ${report.testId}${report.xfailReason ? ` - ${report.xfailReason}` : ''}`);
        }
        break;
      default:
        break;
    }
  }
  if (lines.length === 0) return;
  tw.sep('=', 'short test summary info', { cyan: true, bold: true });
  for (const line of lines) tw.line(line);
}

function foldedSkips(stats: RunStats): string[] {
  const folded = new Map<string, { count: number; path: string; line: number | null; reason: string }>();
  const skips = [...stats.collectSkips.map((skip) => skip.pytest.skip), ...(stats.reports.get('skipped') ?? []).map((report) => report.pytest.skip)];
  for (const skip of skips) {
    if (!skip) continue;
    const { foldPath, foldLine, reason } = skip;
    const key = JSON.stringify([foldPath, foldLine, reason]);
    const entry = folded.get(key) ?? { count: 0, path: foldPath, line: foldLine, reason };
    entry.count += 1;
    folded.set(key, entry);
  }
  return [...folded.values()].map(({ count, path, line, reason }) => {
    const text = reason.startsWith('Skipped: ') ? reason.slice('Skipped: '.length) : reason;
    return line !== null ? `[${count}] ${path}:${line}: ${text}` : `[${count}] ${path}: ${text}`;
  });
}

function writeEnd(tw: TermWriter, reason: RunEndReason): void {
  switch (reason.kind) {
    case 'maxfail':
      tw.sep('!', `stopping after ${reason.failures} failures`, { red: true });
      break;
    case 'collection_errors':
      tw.sep('!', `Interrupted: ${reason.errors} error${reason.errors === 1 ? '' : 's'} during collection`, { red: true });
      break;
    case 'interrupted':
      tw.sep('!', reason.detail, { red: true });
      break;
    case 'aborted': // the CLI prints why on stderr
    case 'completed':
    case 'no_tests':
      break;
  }
}

function writeStatsLine(tw: TermWriter, stats: RunStats, seconds: number, withSeparator: boolean, countUnrun: boolean): void {
  const main = stats.mainColor();
  const categories = stats.categories().filter((category) => countUnrun || category !== 'not run');
  const parts = categories.map((category) => {
    const color = COLOR_FOR[category] ?? 'yellow';
    return tw.markup(pluralize(stats.count(category), category), { [color]: true, bold: color === main });
  });
  const text = (parts.length > 0 ? parts.join(', ') : tw.markup('no tests ran', { yellow: true })) +
    tw.markup(` in ${formatSessionDuration(seconds)}`, { [main]: true });
  if (withSeparator) tw.sep('=', text, { [main]: true });
  else tw.line(text, { [main]: true });
}
