/**
 * The terminal's words for the run's typed notices (the pressure guard, recycling, a promoted spare,
 * a stall...): one yellow `bulkhead:` line each. Null for events that are not notices.
 */
import { describeDeath } from '../../model/cause.js';
import type { RunEvent } from '../../model/event.js';
import { formatBytes } from '../../util/bytes.js';

const workerName = (worker: number, pid: number | null): string => `worker ${worker}${pid !== null ? ` (pid ${pid})` : ''}`;
const available = (bytes: number | null): string => (bytes !== null ? formatBytes(bytes) : 'unknown');

export function noticeText(event: RunEvent): string | null {
  switch (event.type) {
    case 'internal_error':
      return event.source === 'worker' ? event.detail : `internal error: ${event.detail}`;
    case 'framework_notice':
      return event.text;
    case 'oversize_test':
      return `${event.testId} is expected to need ${formatBytes(event.memoryBytes)}, more than the memory budget of ${formatBytes(event.budgetBytes)}: it will run alone`;
    case 'standby_promoted':
      return `${workerName(event.worker, event.pid)} (standby) takes over`;
    case 'worker_recycled':
      return (
        `${workerName(event.worker, event.pid)} holds ${formatBytes(event.residentBytes)} after ${event.afterTestId}, ` +
        `over --worker-recycle-memory ${formatBytes(event.limitBytes)}: replacing it`
      );
    case 'memory_pressure':
      return event.hold
        ? `memory pressure: ${available(event.availableBytes)} available, under the reserve of ${formatBytes(event.reserveBytes)}: no new tests start until it eases`
        : `memory pressure eased (${available(event.availableBytes)} available): tests start again`;
    case 'memory_eviction':
      return (
        `memory pressure: ${available(event.availableBytes)} available, under half the reserve: killing ` +
        `${workerName(event.worker, event.pid)} running ${event.testId}; the test will run again alone`
      );
    case 'lifeline_lost':
      return event.detail;
    case 'stall':
      return `no test has started for ${event.seconds}s while tests wait: ${event.detail}`;
    case 'lock_disagreement':
      return (
        `lock '${event.name}': worker ${event.worker} asked for permits=${event.permits}, but earlier requests gave it a capacity of ${event.before}; ` +
        `at most ${event.capacity} hold it at once${event.capacity < event.before ? ' from now on' : ''} (the smallest permits wins)`
      );
    case 'worker_died_between_tests':
      return (
        `${workerName(event.worker, event.pid)} ${describeDeath(event.cause)} between tests; its queued tests go to other workers` +
        `${event.stderrLastLine ? ` (stderr: ${event.stderrLastLine})` : ''}`
      );
    default:
      return null;
  }
}
