/**
 * "SLOW": a running test whose worker is silent past the heartbeat limit while it keeps using the
 * CPU. It is busy, not hung, and runs on; this says so when the silence passes the limit and again
 * each time it doubles, with where the test is (from faulthandler's watchdog, no signal sent).
 */
import type { RunEventBody } from '../model/event.js';
import { innermostFrame, readLatestDump } from '../supervisor/crash-file.js';
import type { BusyWorker } from '../supervisor/watchdog.js';
import type { WorkerSlot } from './worker-slot.js';

type TestSlow = Extract<RunEventBody, { type: 'test_slow' }>;

/** The notice due for a busy worker now, or null when it was given for this much silence already. */
export function slowNotice(slot: WorkerSlot, busy: BusyWorker, testId: string, heartbeatTimeoutSeconds: number): TestSlow | null {
  const due = slot.nextBusyNotice ?? heartbeatTimeoutSeconds;
  if (busy.silentSeconds < due) return null;
  slot.nextBusyNotice = due * 2;
  const dump = readLatestDump(slot.stacksFile);
  const share = slot.progress.cpuShare;
  return {
    type: 'test_slow',
    testId,
    worker: slot.id,
    silentSeconds: busy.silentSeconds,
    cpuPercent: share === null ? null : Math.round(share * 100),
    where: dump ? innermostFrame(dump) : null,
    stacksFile: dump ? slot.stacksFile : null,
  };
}

/** The notices due now for the busy workers of one tick. */
export function slowNotices(
  busy: readonly BusyWorker[],
  slotOf: (worker: number) => WorkerSlot | undefined,
  testIdOf: (index: number) => string,
  heartbeatTimeoutSeconds: number,
): TestSlow[] {
  const notices: TestSlow[] = [];
  for (const entry of busy) {
    const slot = slotOf(entry.worker);
    if (!slot || slot.running === null) continue;
    const notice = slowNotice(slot, entry, testIdOf(slot.running), heartbeatTimeoutSeconds);
    if (notice) notices.push(notice);
  }
  return notices;
}
