/**
 * Admission control: whether a worker may be handed one more test without the tests that can
 * run at the same time outgrowing the run's memory budget, CPU slots or resource tokens.
 *
 * A worker runs the tests it holds one after another, and it starts the next one by itself as
 * soon as the previous one ends (pytest needs the successor in hand), so what a worker may use
 * before the scheduler hears of it again is its baseline plus the largest demand among everything
 * it holds. That is its reservation; the reservations of all workers must fit the capacity.
 *
 * Two exceptions keep every run finite: a test that fits nowhere (larger than the whole budget)
 * is admitted once no other worker holds anything, so it runs alone; and a test on a worker that
 * already holds its own kind costs nothing more, whatever it is.
 */
import type { Capacity, TestDemand } from './types.js';

/** What one worker holds, folded into the most it can need at once. */
export interface Reservation {
  memoryBytes: number;
  cpus: number;
  /** Shared between reservations (never changed once made: `add` copies before it writes). */
  resources: ReadonlyMap<string, number>;
  /** Families of unmeasured tests it holds: their siblings wait for a first measurement. */
  probing: ReadonlySet<string>;
  count: number;
}

export interface WorkerHold {
  baselineBytes: number;
  reservation: Reservation;
}

export function emptyReservation(): Reservation {
  return { memoryBytes: 0, cpus: 0, resources: new Map(), probing: new Set(), count: 0 };
}

export class Admission {
  constructor(
    private readonly capacity: Capacity,
    private readonly demands: readonly TestDemand[],
  ) {}

  /** The CPU slots a test takes: all of them when exclusive, never more than there are. */
  cpusOf(index: number): number {
    const demand = this.demands[index];
    if (!demand) return 1;
    return demand.exclusive ? this.capacity.cpus : Math.min(Math.max(1, demand.cpus), this.capacity.cpus);
  }

  /** Folds tests into a reservation (a copy; the argument is not changed). */
  add(base: Reservation, indices: Iterable<number>): Reservation {
    // Copy on write: most tests need no resource and are measured, and then the base's map and
    // set serve the new reservation unchanged (one admission check per test makes two of these).
    let resources: Map<string, number> | null = null;
    let probing: Set<string> | null = null;
    let { memoryBytes, cpus, count } = base;
    for (const index of indices) {
      const demand = this.demands[index];
      count += 1;
      cpus = Math.max(cpus, this.cpusOf(index));
      if (!demand) continue;
      memoryBytes = Math.max(memoryBytes, demand.memoryBytes);
      for (const name in demand.resources) {
        const amount = demand.resources[name]!;
        const capped = Math.min(amount, this.capacity.resources[name] ?? amount);
        resources ??= new Map(base.resources);
        resources.set(name, Math.max(resources.get(name) ?? 0, capped));
      }
      if (!demand.measured && !(probing ?? base.probing).has(demand.family)) {
        probing ??= new Set(base.probing);
        probing.add(demand.family);
      }
    }
    return { memoryBytes, cpus, resources: resources ?? base.resources, probing: probing ?? base.probing, count };
  }

  reservationOf(indices: Iterable<number>): Reservation {
    return this.add(emptyReservation(), indices);
  }

  /**
   * Whether `worker` may take `indices` on top of what it holds, given what the others hold.
   * `holding` is false for a worker that holds nothing.
   */
  fits(worker: WorkerHold, others: readonly WorkerHold[], indices: readonly number[]): boolean {
    // Alone, anything runs: a test larger than the budget, or exclusive, runs by itself.
    if (others.every((other) => other.reservation.count === 0)) return true;
    for (const index of indices) {
      const demand = this.demands[index];
      // Slow start: one unmeasured test of a family at a time across workers, so that eight
      // parametrizations of a 1.5 GiB test do not all start before the first is measured.
      if (demand && !demand.measured && others.some((other) => other.reservation.probing.has(demand.family))) return false;
    }
    const mine = this.add(worker.reservation, indices);
    if (this.capacity.memoryBytes !== null) {
      let total = worker.baselineBytes + mine.memoryBytes;
      for (const other of others) total += other.baselineBytes + other.reservation.memoryBytes;
      if (total > this.capacity.memoryBytes) return false;
    }
    let cpus = mine.cpus;
    for (const other of others) cpus += other.reservation.cpus;
    if (cpus > this.capacity.cpus) return false;
    for (const [name, amount] of mine.resources) {
      let used = amount;
      for (const other of others) used += other.reservation.resources.get(name) ?? 0;
      if (used > (this.capacity.resources[name] ?? amount)) return false;
    }
    return true;
  }
}
