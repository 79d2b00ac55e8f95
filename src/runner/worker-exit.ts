/**
 * What the worker pool reads off a worker around its exit: OOM evidence, the processes its tests
 * left behind, a short description of its death, and the RSS sample of the last memory rung.
 */
import type { ExitCause, OomCause } from '../model/cause.js';
import type { CrashReport } from '../model/outcome.js';
import { classifyExit } from '../supervisor/classify-exit.js';
import { readCrashStacks, readLatestDump } from '../supervisor/crash-file.js';
import { processStartTime, signalProcess, type MemoryCgroup } from '../supervisor/platform/index.js';
import { treeRssBytes } from '../supervisor/platform/process-tree.js';
import type { WorkerExit } from '../supervisor/worker-process.js';
import type { WorkerSlot } from './worker-slot.js';

/** The worker's memory cgroup, when the kernel's OOM killer struck there and the worker died by SIGKILL. */
export function oomKilledLeaf(slot: WorkerSlot, exit: WorkerExit): MemoryCgroup | null {
  const leaf = slot.process?.memory;
  if (!leaf || exit.signal !== 'SIGKILL' || leaf.oomKills() === 0) return null;
  return leaf;
}

/**
 * Kills what the worker's tests left running, as they reported it. Without a cgroup this is what
 * catches a daemon that left the process group with setsid; the start time guards against a pid
 * the kernel has since given to another process.
 */
export function killLeaked(slot: WorkerSlot): void {
  for (const { pid, startTime } of slot.leaked) {
    if (processStartTime(pid) === startTime) signalProcess(pid, 'SIGKILL');
  }
}

export function describeDeath(cause: ExitCause): string {
  if (cause.kind === 'startup_failure') {
    if (cause.detail) return `failed to start (${cause.detail})`;
    return cause.signal ? `was killed by ${cause.signal}` : `exited with code ${cause.code ?? '?'}`;
  }
  if (cause.kind === 'signal') return `was killed by ${cause.signal}`;
  if (cause.kind === 'exit_code') return `exited with code ${cause.code}`;
  return cause.kind;
}

/** The resident memory of every live worker's process tree, and those over their cap. */
export function sampleWorkerMemory(
  slots: readonly WorkerSlot[],
  capFor: (slot: WorkerSlot) => number | null,
): { totalBytes: number; overCap: Array<{ slot: WorkerSlot; capBytes: number; rssBytes: number }> } {
  let totalBytes = 0;
  const overCap: Array<{ slot: WorkerSlot; capBytes: number; rssBytes: number }> = [];
  for (const slot of slots) {
    if (slot.state === 'exited' || slot.pid === null) continue;
    const rssBytes = treeRssBytes(slot.pid);
    totalBytes += rssBytes;
    const capBytes = capFor(slot);
    if (capBytes !== null && rssBytes > capBytes && !(slot.process?.terminating ?? true)) overCap.push({ slot, capBytes, rssBytes });
  }
  return { totalBytes, overCap };
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

/**
 * Between tests no test is to blame, but a worker that dies there is still news (a session
 * fixture's teardown, a leak the kernel's OOM killer took): what to say, with its stderr's last line.
 */
export function betweenTestsNotice(slot: WorkerSlot, cause: ExitCause, stderrTail: string): string {
  const last = stderrTail.trim().split('\n').pop() ?? '';
  return `${slot.name} ${describeDeath(cause)} between tests; its queued tests go to other workers${last ? ` (stderr: ${last})` : ''}`;
}

/**
 * A worker's exit as the run sees it: its one cause (our kill reason first, then OOM evidence from
 * its memory cgroup, then how it ended), and the crash report for the test it was running: its
 * stderr's tail and the Python stacks.
 */
export function deathOf(
  slot: WorkerSlot,
  exit: WorkerExit,
  wasReady: boolean,
  oomFacts: (leaf: MemoryCgroup) => Omit<OomCause, 'kind'>,
): { cause: ExitCause; crash: CrashReport } {
  const oomLeaf = oomKilledLeaf(slot, exit);
  let cause = classifyExit({
    code: exit.code,
    signal: exit.signal,
    killReason: exit.killReason,
    spawnError: exit.spawnError ? `${exit.spawnError.code ?? ''} ${exit.spawnError.message}`.trim() : null,
    sessionDone: slot.sessionDone,
    wasReady,
    oom: oomLeaf ? oomFacts(oomLeaf) : null,
  });
  if (cause.kind === 'oom' && slot.baselineBytes !== null) cause = { ...cause, baselineBytes: slot.baselineBytes };
  const stderrTail = slot.process?.log.stderrTail.lastLines(40) ?? '';
  return { cause, crash: { worker: slot.id, pid: slot.pid, cause, stderrTail, stacks: stacksAtExit(slot, cause) } };
}

/**
 * The Python stacks for a death's report: what faulthandler wrote at a fatal signal (or on
 * SIGUSR1), else the newest dump its watchdog took of the running test.
 */
function stacksAtExit(slot: WorkerSlot, cause: ExitCause): string {
  if (slot.running === null && cause.kind !== 'startup_failure') return '';
  const crashed = readCrashStacks(slot.crashFile);
  if (crashed !== '' || slot.running === null) return crashed;
  return readLatestDump(slot.stacksFile);
}
