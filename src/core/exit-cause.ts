/**
 * A worker's exit as the run sees it: its one cause (the core's own kill reason first, then OOM
 * evidence, then how it ended), the crash report for the test it was running, and the words for
 * deaths that blame no test. Pure: the runtime read the facts off the process and its files.
 */
import { describeDeath, type ExitCause } from '../model/cause.js';

export { describeDeath };
import type { CrashReport } from '../model/outcome.js';
import { classifyExit } from './classify-exit.js';
import type { ExitFacts } from './inputs.js';
import type { WorkerRecord } from './worker-record.js';

export function deathOf(record: WorkerRecord, exit: ExitFacts, running: boolean): { cause: ExitCause; crash: CrashReport } {
  let cause = classifyExit({
    code: exit.code,
    signal: exit.signal,
    killReason: record.killReason,
    spawnError: exit.spawnError ? `${exit.spawnError.code ?? ''} ${exit.spawnError.message}`.trim() : null,
    sessionDone: record.sessionDone,
    wasReady: record.readyAt !== null,
    oom: exit.oom,
  });
  if (cause.kind === 'oom' && record.baselineBytes !== null) cause = { ...cause, baselineBytes: record.baselineBytes };
  return { cause, crash: { worker: record.id, pid: record.pid, cause, stderrTail: exit.stderrTail, stacks: stacksAtExit(exit, cause, running) } };
}

/**
 * The Python stacks for a death's report: what faulthandler wrote at a fatal signal (or on
 * SIGUSR1), else the newest dump its watchdog took of the running test.
 */
function stacksAtExit(exit: ExitFacts, cause: ExitCause, running: boolean): string {
  if (!running && cause.kind !== 'startup_failure') return '';
  if (exit.crashStacks !== '' || !running) return exit.crashStacks;
  return exit.latestDump;
}


/**
 * pytest's own words for a session it refused (a usage error, a path not found): from its first
 * `ERROR:` line on. What came before is noise printed at configure time, such as the warning
 * pytest-benchmark gives in every xdist worker (bulkhead's workers are xdist workers to plugins).
 */
export function pytestVerdict(stderr: string): string {
  const lines = stderr.trim().split('\n');
  const first = lines.findIndex((line) => line.startsWith('ERROR: '));
  return (first > 0 ? lines.slice(first) : lines).join('\n').trim();
}

/** The last line of a stderr tail, for a one-line account of a death. */
export function lastLine(stderrTail: string): string {
  return stderrTail.trim().split('\n').pop() ?? '';
}
