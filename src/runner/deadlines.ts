/**
 * One tick of the watchdog on a run's workers: their CPU time sampled, the pure deadline check
 * (supervisor/watchdog.ts) carried out (kills, with the lock a timed-out test waited for), busy
 * workers announced as SLOW, and the RSS watchdog of the last memory rung.
 */
import type { RunEventBody } from '../model/event.js';
import { checkDeadlines, type WatchdogLimits } from '../supervisor/watchdog.js';
import type { LockService } from './lock-service.js';
import { slowNotices } from './slow-test.js';
import type { WorkerPool } from './worker-pool.js';

export function enforceDeadlines(
  pool: WorkerPool,
  locks: LockService,
  limits: WatchdogLimits,
  now: number,
  testIdOf: (index: number) => string,
  emit: (event: RunEventBody) => void,
): void {
  pool.sampleProgress();
  const { kills, busy } = checkDeadlines(pool.watched(), now, limits);
  for (const order of kills) pool.terminate(order.worker, locks.explainKill(order.worker, order.reason), order.dumpStacks);
  for (const notice of slowNotices(busy, (id) => pool.get(id), testIdOf, limits.heartbeatTimeoutSeconds)) emit(notice);
  pool.checkMemory();
}
