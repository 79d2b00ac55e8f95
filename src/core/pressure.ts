/**
 * The pressure guard's decisions: given what memory the machine (or the cgroup above us) still
 * has and the PSI stall, short of the reserve admission holds; short of half of it, the worker of
 * the most recently started test is killed and that test runs again alone later — so the kernel's
 * global OOM killer is never reached because of us. Pure: the shell reads the numbers on each tick.
 */
import { guardReserve, judgePressure } from '../scheduler/memory-budget.js';
import type { MemoryOptions } from './options.js';
import type { MemoryReading } from './inputs.js';

/** After an eviction, let the kernel take the memory back before judging again. */
const EVICT_COOLDOWN_MS = 2_000;

/** A worker the guard may kill: it runs a test, since `runningSince`. */
export interface EvictionCandidate {
  worker: number;
  runningSince: number;
  /** Killing a test retried alone would only start it again; one being killed is already going. */
  exempt: boolean;
}

export interface PressureVerdict {
  hold: boolean;
  /** The worker to kill now, if any. */
  victim: number | null;
  availableBytes: number | null;
  reserveBytes: number;
}

export class PressureGuard {
  readonly reserveBytes: number;
  private lastEvictionAt = -Infinity;

  constructor(options: MemoryOptions) {
    this.reserveBytes = guardReserve(options.limitBytes, options.budgetBytes);
  }

  check(reading: MemoryReading, now: number, candidates: readonly EvictionCandidate[]): PressureVerdict {
    const verdict = judgePressure(reading.availableBytes, reading.stallPercent, this.reserveBytes);
    let victim: EvictionCandidate | null = null;
    if (verdict === 'evict' && now - this.lastEvictionAt > EVICT_COOLDOWN_MS) {
      for (const candidate of candidates) {
        if (candidate.exempt) continue;
        if (victim === null || candidate.runningSince > victim.runningSince) victim = candidate;
      }
      if (victim !== null) this.lastEvictionAt = now;
    }
    return { hold: verdict !== 'ok', victim: victim?.worker ?? null, availableBytes: reading.availableBytes, reserveBytes: this.reserveBytes };
  }
}
