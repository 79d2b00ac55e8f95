/**
 * What ran beside a test when its worker died: the tests running in other workers then, and those
 * whose workers died moments before (two workers killed by one OOM at the run's budget exit one after the
 * other), each with its worker's memory. Under parallel load they are half of a crash's story.
 */
import type { ExitCause } from '../model/cause.js';
import type { BesideTest, CrashReport } from '../model/outcome.js';

/** A test that ended this recently still counts as beside a death. */
const RECENT_MS = 3_000;

export interface RunningTest {
  worker: number;
  testId: string;
  memoryBytes: number | null;
}

export class BesideLog {
  private recent: Array<RunningTest & { endedAt: number }> = [];

  /** A test whose worker died at `now`, with its worker's memory then. */
  died(test: RunningTest, now: number): void {
    this.recent = this.recent.filter((entry) => now - entry.endedAt <= RECENT_MS && entry.worker !== test.worker);
    this.recent.push({ ...test, endedAt: now });
  }

  /** The tests beside `worker`'s death at `now`: running elsewhere, or killed elsewhere moments ago. */
  beside(worker: number, now: number, running: readonly RunningTest[]): BesideTest[] {
    const found = running.filter((test) => test.worker !== worker);
    for (const entry of this.recent) {
      if (entry.worker === worker || now - entry.endedAt > RECENT_MS) continue;
      if (found.some((test) => test.worker === entry.worker && test.testId === entry.testId)) continue;
      found.push({ worker: entry.worker, testId: entry.testId, memoryBytes: entry.memoryBytes });
    }
    return found.sort((a, b) => a.worker - b.worker);
  }

  /**
   * A worker died while it ran `testId`: its crash report names what ran beside it, and the death
   * is kept for the deaths that follow it moments later.
   */
  recordDeath(crash: CrashReport, testId: string, cause: ExitCause, now: number, running: readonly RunningTest[]): void {
    crash.beside = this.beside(crash.worker, now, running);
    this.died({ worker: crash.worker, testId, memoryBytes: cause.kind === 'oom' ? cause.peakBytes : null }, now);
  }
}
