/**
 * When to start a replacement worker, and when to stop trying. Pure: the clock is passed in.
 *
 * - Backoff per pool slot: a slot whose workers keep dying quickly waits 0, base, 2*base, ...
 *   (capped) before its next start; a worker that lived a stable period resets its slot.
 * - Crash-loop breaker: when workers die before running any test K times in a row (an import
 *   that segfaults, a conftest that exits), the run is aborted instead of respawning forever.
 */
export interface RestartPolicyOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  stableMs: number;
  crashLoopLimit: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  stableMs: 10_000,
  crashLoopLimit: 3,
};

export type RestartDecision = { kind: 'restart'; delayMs: number } | { kind: 'crash_loop'; deathsInARow: number };

export class RestartPolicy {
  private readonly quickDeaths = new Map<number, number>();
  private deathsBeforeAnyTest = 0;

  constructor(private readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {}

  /** A worker of `slot` ended (not by our choice). */
  workerDied(slot: number, lifetimeMs: number, ranTests: boolean): RestartDecision {
    this.deathsBeforeAnyTest = ranTests ? 0 : this.deathsBeforeAnyTest + 1;
    if (this.deathsBeforeAnyTest >= this.options.crashLoopLimit) {
      return { kind: 'crash_loop', deathsInARow: this.deathsBeforeAnyTest };
    }
    const previous = lifetimeMs >= this.options.stableMs ? 0 : (this.quickDeaths.get(slot) ?? 0);
    const deaths = previous + 1;
    this.quickDeaths.set(slot, deaths);
    const delayMs = deaths <= 1 ? 0 : Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (deaths - 2));
    return { kind: 'restart', delayMs };
  }

  /** A worker ran a test: the suite can run, whatever killed earlier workers. */
  testRan(): void {
    this.deathsBeforeAnyTest = 0;
  }
}
