/**
 * The run loop's memory duties: what each test is expected to need (for admission), recycling a
 * worker that leaked, and the pressure guard's holds and evictions, each announced as it happens.
 */
import type { RunEventBody, TestMemory } from '../model/event.js';
import type { TestSettings } from '../model/settings.js';
import type { TestInfo } from '../model/test.js';
import type { SchedulerInput, TestDemand } from '../scheduler/types.js';
import { formatBytes } from '../util/bytes.js';
import { MemoryGuard } from './memory-guard.js';
import type { RunOptions } from './options.js';
import { planDemands } from './test-demands.js';
import type { WorkerPool } from './worker-pool.js';
import type { WorkerSlot } from './worker-slot.js';

export interface RunMemoryDeps {
  emit(event: RunEventBody): void;
  now(): number;
  apply(input: SchedulerInput): void;
}

export class RunMemory {
  private readonly guard: MemoryGuard;
  private pressureHold = false;
  /** Workers already told to go for their size (the notice is given once). */
  private readonly recycled = new Set<number>();

  constructor(
    private readonly options: RunOptions,
    private readonly deps: RunMemoryDeps,
  ) {
    this.guard = new MemoryGuard(options.memory, deps.now);
  }

  demandsFor(tests: readonly TestInfo[], settings: readonly TestSettings[] | null, peaks: ReadonlyMap<string, number>): TestDemand[] {
    const budget = this.options.memory.budgetBytes;
    const plan = planDemands({ tests, settings, peaks, budgetBytes: budget, workers: this.options.workers });
    for (const index of plan.oversize) {
      this.deps.emit({
        type: 'notice',
        message: `${tests[index]!.id} is expected to need ${formatBytes(plan.demands[index]!.memoryBytes)}, more than the memory budget of ${formatBytes(budget)}: it will run alone`,
      });
    }
    return plan.demands;
  }

  /**
   * A suite that leaks: a worker whose idle memory grew past the limit is replaced between tests.
   * The worker makes the same comparison on the same number and stops by itself, giving back the
   * successor it already held (BULKHEAD_RECYCLE_BYTES); here the scheduler learns of it. Once.
   */
  afterTest(slot: WorkerSlot, testId: string, memory: TestMemory | null): void {
    const recycleAt = this.options.memory.recycleBytes;
    const resident = memory?.residentBytes ?? null;
    if (recycleAt === null || resident === null || resident <= recycleAt || slot.role !== 'pool') return;
    // Once per worker; and a finishing worker with nothing left to run ends anyway.
    if (this.recycled.has(slot.id) || (slot.state === 'finishing' && slot.assigned.length === 0)) return;
    this.recycled.add(slot.id);
    this.deps.emit({
      type: 'notice',
      message: `${slot.name} holds ${formatBytes(resident)} after ${testId}, over --worker-recycle-memory ${formatBytes(recycleAt)}: replacing it`,
    });
    this.deps.apply({ type: 'recycle', worker: slot.id });
  }

  checkPressure(pool: WorkerPool, testId: (index: number) => string): void {
    const reading = this.guard.check(pool.live());
    const available = reading.availableBytes !== null ? formatBytes(reading.availableBytes) : 'unknown';
    if (reading.hold !== this.pressureHold) {
      this.pressureHold = reading.hold;
      this.deps.emit({
        type: 'notice',
        message: reading.hold
          ? `memory pressure: ${available} available, under the reserve of ${formatBytes(reading.reserveBytes)}: no new tests start until it eases`
          : `memory pressure eased (${available} available): tests start again`,
      });
      this.deps.apply({ type: 'pressure', hold: reading.hold });
    }
    const victim = reading.victim;
    if (victim !== null && victim.running !== null) {
      this.deps.emit({
        type: 'notice',
        message: `memory pressure: ${available} available, under half the reserve: killing ${victim.name} running ${testId(victim.running)}; the test will run again alone`,
      });
      pool.terminate(victim.id, { kind: 'memory_pressure' }, false);
    }
  }
}
