/**
 * Cross-worker locks, the supervisor's table: who holds each named lock and who waits for it.
 * Pure and synchronous: every call returns the grants it made, and the caller delivers them.
 *
 * - A request is one `token` of one worker (tokens are unique within a worker). A worker may
 *   hold several permits of one name (several threads); the table does not care.
 * - FIFO per name: a request is granted only from the head of its name's queue, when fewer
 *   than `capacity` hold the name. A later request never overtakes an earlier one, so a test
 *   that needs the lock is never starved by a stream of later ones.
 * - Capacity: the smallest `permits` any request for the name has asked in this run. Callers
 *   that disagree (`permits=2` in one place, `permits=1` in another) get the safe reading: no
 *   caller ever sees more holders than it allowed. The value is kept once the name is idle, so
 *   it does not depend on which caller happened to come first after a quiet spell; a smaller
 *   `permits` arriving while more hold the name waits for them to leave (nobody is evicted).
 * - Releases are idempotent: an unknown token does nothing, and a queued token is withdrawn.
 * - A worker that died has its holdings and its queued requests dropped at once
 *   (`releaseWorker`); the next waiters go on.
 */
import type { WorkerId } from '../model/test.js';

export interface LockGrant {
  worker: WorkerId;
  token: string;
  name: string;
}

export interface LockHolder {
  worker: WorkerId;
  token: string;
}

interface NamedLock {
  capacity: number;
  holders: LockHolder[];
  queue: LockHolder[];
}

export class LockTable {
  private readonly locks = new Map<string, NamedLock>();
  /** The name of every live request (queued or held), by worker, then token. */
  private readonly requests = new Map<WorkerId, Map<string, string>>();

  /** `worker` asks for a permit of `name`; returns the grants this makes (this request's, if free). */
  acquire(worker: WorkerId, token: string, name: string, permits: number): LockGrant[] {
    if (!Number.isInteger(permits) || permits < 1) {
      throw new RangeError(`lock '${name}' asked by worker ${worker} with permits=${permits}: must be an integer >= 1`);
    }
    if (this.nameOf(worker, token) !== undefined) return []; // the same request again: it stands
    let lock = this.locks.get(name);
    if (lock === undefined) {
      lock = { capacity: permits, holders: [], queue: [] };
      this.locks.set(name, lock);
    }
    lock.capacity = Math.min(lock.capacity, permits);
    lock.queue.push({ worker, token });
    this.remember(worker, token, name);
    return this.grantFrom(name, lock);
  }

  /** Gives back (or withdraws) one request; returns the grants this makes. */
  release(worker: WorkerId, token: string): LockGrant[] {
    const name = this.nameOf(worker, token);
    if (name === undefined) return [];
    this.requests.get(worker)?.delete(token);
    const lock = this.locks.get(name)!;
    const matches = (entry: LockHolder): boolean => entry.worker === worker && entry.token === token;
    lock.holders = lock.holders.filter((entry) => !matches(entry));
    lock.queue = lock.queue.filter((entry) => !matches(entry));
    return this.grantFrom(name, lock);
  }

  /** A worker is gone: everything it held or waited for is dropped; returns the grants this makes. */
  releaseWorker(worker: WorkerId): LockGrant[] {
    const mine = this.requests.get(worker);
    if (mine === undefined) return [];
    this.requests.delete(worker);
    const names = new Set(mine.values());
    const grants: LockGrant[] = [];
    // In the table's own order, so that the grants come out the same on every run.
    for (const [name, lock] of this.locks) {
      if (!names.has(name)) continue;
      lock.holders = lock.holders.filter((entry) => entry.worker !== worker);
      lock.queue = lock.queue.filter((entry) => entry.worker !== worker);
      grants.push(...this.grantFrom(name, lock));
    }
    return grants;
  }

  /** How many may hold `name` at once, or null for a name never asked for. */
  capacity(name: string): number | null {
    return this.locks.get(name)?.capacity ?? null;
  }

  /** Who holds `name`, in the order they got it. */
  holders(name: string): readonly LockHolder[] {
    return this.locks.get(name)?.holders ?? [];
  }

  /** Who waits for `name`, first in line first. */
  waiting(name: string): readonly LockHolder[] {
    return this.locks.get(name)?.queue ?? [];
  }

  /** The names `worker` is waiting for (not those it holds). */
  waitsOf(worker: WorkerId): string[] {
    const waits: string[] = [];
    for (const [name, lock] of this.locks) {
      if (lock.queue.some((entry) => entry.worker === worker)) waits.push(name);
    }
    return waits;
  }

  private grantFrom(name: string, lock: NamedLock): LockGrant[] {
    const grants: LockGrant[] = [];
    while (lock.holders.length < lock.capacity && lock.queue.length > 0) {
      const next = lock.queue.shift()!;
      lock.holders.push(next);
      grants.push({ worker: next.worker, token: next.token, name });
    }
    return grants;
  }

  private nameOf(worker: WorkerId, token: string): string | undefined {
    return this.requests.get(worker)?.get(token);
  }

  private remember(worker: WorkerId, token: string, name: string): void {
    let mine = this.requests.get(worker);
    if (mine === undefined) {
      mine = new Map();
      this.requests.set(worker, mine);
    }
    mine.set(token, name);
  }
}
