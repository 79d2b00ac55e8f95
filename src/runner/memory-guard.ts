/**
 * The pressure guard: watches what memory the machine (or the cgroup above us) still has, and
 * PSI stalls. Short of the reserve, admission holds; short of half of it, the worker of the most
 * recently started test is killed and that test runs again alone later — so the kernel's global
 * OOM killer is never reached because of us.
 */
import { guardReserve, judgePressure } from '../scheduler/memory-budget.js';
import { availableMemory, memoryPressure } from '../supervisor/platform/index.js';
import type { MemoryOptions } from './options.js';
import type { WorkerSlot } from './worker-slot.js';

/** After an eviction, let the kernel take the memory back before judging again. */
const EVICT_COOLDOWN_MS = 2_000;

export interface PressureReading {
  hold: boolean;
  /** The worker to kill now, if any. */
  victim: WorkerSlot | null;
  availableBytes: number | null;
  reserveBytes: number;
}

export class MemoryGuard {
  private readonly reserveBytes: number;
  private lastEvictionAt = -Infinity;

  constructor(
    options: MemoryOptions,
    private readonly now: () => number,
    private readonly read: () => { availableBytes: number | null; stallPercent: number | null } = () => ({
      availableBytes: availableMemory(),
      stallPercent: memoryPressure(),
    }),
  ) {
    this.reserveBytes = guardReserve(options.limitBytes, options.budgetBytes);
  }

  check(slots: Iterable<WorkerSlot>): PressureReading {
    const { availableBytes, stallPercent } = this.read();
    const verdict = judgePressure(availableBytes, stallPercent, this.reserveBytes);
    let victim: WorkerSlot | null = null;
    if (verdict === 'evict' && this.now() - this.lastEvictionAt > EVICT_COOLDOWN_MS) {
      for (const slot of slots) {
        // A test retried alone already runs by itself: killing it would only start it again.
        if (slot.running === null || slot.runningSince === null || slot.process?.terminating || slot.role === 'isolated') continue;
        if (victim === null || slot.runningSince > victim.runningSince!) victim = slot;
      }
      if (victim !== null) this.lastEvictionAt = this.now();
    }
    return { hold: verdict !== 'ok', victim, availableBytes, reserveBytes: this.reserveBytes };
  }
}
