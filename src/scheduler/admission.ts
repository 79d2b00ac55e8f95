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
  resources: Map<string, number>;
  /** Families of unmeasured tests it holds: their siblings wait for a first measurement. */
  probing: Set<string>;
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
    const next: Reservation = {
      memoryBytes: base.memoryBytes,
      cpus: base.cpus,
      resources: new Map(base.resources),
      probing: new Set(base.probing),
      count: base.count,
    };
    for (const index of indices) {
      const demand = this.demands[index];
      next.count += 1;
      next.cpus = Math.max(next.cpus, this.cpusOf(index));
      if (!demand) continue;
      next.memoryBytes = Math.max(next.memoryBytes, demand.memoryBytes);
      for (const [name, amount] of Object.entries(demand.resources)) {
        const capped = Math.min(amount, this.capacity.resources[name] ?? amount);
        next.resources.set(name, Math.max(next.resources.get(name) ?? 0, capped));
      }
      if (!demand.measured) next.probing.add(demand.family);
    }
    return next;
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
