/**
 * The deadlines of workers, checked on every tick. Pure: given what is known of each worker and
 * the time, it says which to kill and why, and which are busy without a heartbeat.
 *
 * - startup: a worker that is not ready (collected) within the startup limit;
 * - timeout: the running test passed its own limit (the stacks are taken before the kill);
 * - unresponsive: no heartbeat for the heartbeat limit while a test runs *and* no progress for as
 *   long: its CPU time did not grow, or it is stopped (SIGSTOP). That is a deadlock or a stop.
 *   A worker that is silent but keeps burning CPU (a long C call holding the GIL, a 16 GiB list
 *   being filled) is busy, not hung: it is reported as such and left to the test's timeout, if it
 *   has one. The heartbeat alone never fails a test that is computing.
 *   There is no heartbeat deadline before the worker is ready, so a slow start (heavy imports) is
 *   never taken for a hang.
 */
import type { KillReason } from '../model/cause.js';

/**
 * Busy means CPU time gained lately: the progress meter judges windows of about a second, so a
 * computing worker has shown progress within this. A worker that last computed longer ago (at its
 * test's start, say) is neither busy nor yet hung until the limit passes without progress.
 */
const RECENT_PROGRESS_MS = 2_500;

export interface WatchedWorker {
  id: number;
  ready: boolean;
  startedAt: number;
  readyAt: number | null;
  lastHeartbeat: number | null;
  running: { startedAt: number; timeoutSeconds: number | null } | null;
  /** When its CPU time was last seen growing (see ProgressMeter); null: never sampled. */
  lastProgress: number | null;
  /** When the window that showed that progress began; null with lastProgress. */
  lastProgressFrom?: number | null;
  /** Stopped (SIGSTOP, a tracer) at the last sample. */
  stopped: boolean;
  /** Already being killed: nothing more to decide. */
  terminating: boolean;
}

export interface WatchdogLimits {
  startupTimeoutSeconds: number;
  heartbeatTimeoutSeconds: number;
}

export interface KillOrder {
  worker: number;
  reason: KillReason;
  dumpStacks: boolean;
}

/** A worker running a test without a heartbeat for longer than the limit, but making progress. */
export interface BusyWorker {
  worker: number;
  silentSeconds: number;
}

export interface WatchVerdicts {
  kills: KillOrder[];
  busy: BusyWorker[];
}

export function checkDeadlines(workers: readonly WatchedWorker[], now: number, limits: WatchdogLimits): WatchVerdicts {
  const kills: KillOrder[] = [];
  const busy: BusyWorker[] = [];
  const limitMs = limits.heartbeatTimeoutSeconds * 1000;
  for (const worker of workers) {
    if (worker.terminating) continue;
    if (!worker.ready) {
      if (now - worker.startedAt > limits.startupTimeoutSeconds * 1000) {
        kills.push({ worker: worker.id, reason: { kind: 'startup_timeout', limitSeconds: limits.startupTimeoutSeconds }, dumpStacks: true });
      }
      continue;
    }
    const running = worker.running;
    if (running === null) continue;
    if (running.timeoutSeconds !== null && running.timeoutSeconds > 0 && now - running.startedAt > running.timeoutSeconds * 1000) {
      kills.push({ worker: worker.id, reason: { kind: 'timeout', limitSeconds: running.timeoutSeconds }, dumpStacks: true });
      continue;
    }
    // Silence counts from the last sign of life: a heartbeat, becoming ready, or the test's start.
    const lastSign = Math.max(worker.lastHeartbeat ?? 0, worker.readyAt ?? 0, running.startedAt);
    const silent = now - lastSign;
    if (silent <= limitMs) continue;
    // Progress counts the same way, from the last sign of life or the last CPU time gained.
    const stalled = now - Math.max(lastSign, worker.lastProgress ?? 0);
    if (worker.stopped || stalled > limitMs) {
      kills.push({
        worker: worker.id,
        reason: { kind: 'unresponsive', silentSeconds: silent / 1000, stopped: worker.stopped },
        dumpStacks: true,
      });
    } else if (worker.lastProgress !== null && progressSince(worker, lastSign) && now - worker.lastProgress <= RECENT_PROGRESS_MS) {
      busy.push({ worker: worker.id, silentSeconds: silent / 1000 });
    }
  }
  return { kills, busy };
}

/**
 * Whether the progress seen was measured wholly within the silence: a window that began before it
 * holds the CPU of the test's own start (imports, setup), which a deadlock right after does not undo.
 */
function progressSince(worker: WatchedWorker, lastSign: number): boolean {
  return (worker.lastProgressFrom ?? worker.lastProgress ?? -Infinity) >= lastSign;
}
