/**
 * The deadlines of workers, checked on every tick. Pure: given what is known of each worker and
 * the time, it says which to kill and why.
 *
 * - startup: a worker that is not ready (collected) within the startup limit;
 * - timeout: the running test passed its own limit (the stacks are dumped before the kill);
 * - unresponsive: no heartbeat for the heartbeat limit while a test runs. There is no heartbeat
 *   deadline before the worker is ready, so a slow start (heavy imports) is never taken for a hang.
 */
import type { KillReason } from '../model/cause.js';

export interface WatchedWorker {
  id: number;
  ready: boolean;
  startedAt: number;
  readyAt: number | null;
  lastHeartbeat: number | null;
  running: { startedAt: number; timeoutSeconds: number | null } | null;
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

export function checkDeadlines(workers: readonly WatchedWorker[], now: number, limits: WatchdogLimits): KillOrder[] {
  const orders: KillOrder[] = [];
  for (const worker of workers) {
    if (worker.terminating) continue;
    if (!worker.ready) {
      if (now - worker.startedAt > limits.startupTimeoutSeconds * 1000) {
        orders.push({ worker: worker.id, reason: { kind: 'startup_timeout', limitSeconds: limits.startupTimeoutSeconds }, dumpStacks: true });
      }
      continue;
    }
    const running = worker.running;
    if (running === null) continue;
    if (running.timeoutSeconds !== null && running.timeoutSeconds > 0 && now - running.startedAt > running.timeoutSeconds * 1000) {
      orders.push({ worker: worker.id, reason: { kind: 'timeout', limitSeconds: running.timeoutSeconds }, dumpStacks: true });
      continue;
    }
    // Silence counts from the last sign of life: a heartbeat, becoming ready, or the test's start.
    const lastSign = Math.max(worker.lastHeartbeat ?? 0, worker.readyAt ?? 0, running.startedAt);
    const silent = now - lastSign;
    if (silent > limits.heartbeatTimeoutSeconds * 1000) {
      orders.push({ worker: worker.id, reason: { kind: 'unresponsive', silentSeconds: silent / 1000 }, dumpStacks: true });
    }
  }
  return orders;
}
