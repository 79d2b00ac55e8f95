/**
 * Cross-worker locks, the supervisor's side: turns workers' `lock_acquire` / `lock_release`
 * requests into LockTable calls, and the grants into `lock_granted` commands that say how long
 * each request waited. The run loop feeds it every lock request and every worker death.
 */
import type { LockRequest, WorkerCommand } from '../adapters/messages.js';
import { assertNever } from '../model/assert-never.js';
import type { KillReason } from '../model/cause.js';
import type { WorkerId } from '../model/test.js';
import { LockTable, type LockGrant } from '../scheduler/lock-table.js';

export interface LockServiceDeps {
  send(worker: WorkerId, command: WorkerCommand): void;
  /** Monotonic clock, in milliseconds. */
  now(): number;
  /** Told once per name and `permits` value when callers disagree on a lock's capacity. */
  disagreement?(fact: LockDisagreement): void;
}

/** Callers of one lock asked for different capacities: the smallest stands (from now on, when it shrank). */
export interface LockDisagreement {
  name: string;
  worker: WorkerId;
  permits: number;
  /** The capacity earlier requests gave it, and the one in force now. */
  before: number;
  capacity: number;
}

export class LockService {
  private readonly table = new LockTable();
  /** When each queued request arrived, by worker, then token. */
  private readonly requestedAt = new Map<WorkerId, Map<string, number>>();
  /** Workers whose death was handled: a line of theirs read after it must not take a lock again. */
  private readonly gone = new Set<WorkerId>();
  private readonly disagreements = new Set<string>();

  constructor(private readonly deps: LockServiceDeps) {}

  onMessage(worker: WorkerId, message: LockRequest): void {
    if (this.gone.has(worker)) return;
    switch (message.type) {
      case 'lock_acquire': {
        const before = this.table.capacity(message.name);
        this.queuedAt(worker).set(message.token, this.deps.now());
        const grants = this.table.acquire(worker, message.token, message.name, message.permits);
        if (before !== null && before !== message.permits) this.disagree(worker, message.name, message.permits, before);
        this.deliver(grants);
        return;
      }
      case 'lock_release':
        this.requestedAt.get(worker)?.delete(message.token);
        this.deliver(this.table.release(worker, message.token));
        return;
      default:
        assertNever(message);
    }
  }

  /** A worker exited (or was killed): its locks go to the next in line. Call for every exit. */
  workerGone(worker: WorkerId): void {
    this.gone.add(worker);
    this.requestedAt.delete(worker);
    this.deliver(this.table.releaseWorker(worker));
  }

  /** Time in line for a lock counts towards a timeout: a timeout kill says which lock, and who held it. */
  explainKill(worker: WorkerId, reason: KillReason): KillReason {
    if (reason.kind !== 'timeout') return reason;
    const waits = this.waitsOf(worker);
    return waits.length > 0 ? { ...reason, waitingFor: waits } : reason;
  }

  /** The names `worker` is waiting for, with who holds each: for a timeout's explanation. */
  waitsOf(worker: WorkerId): Array<{ name: string; heldBy: WorkerId[] }> {
    return this.table.waitsOf(worker).map((name) => ({
      name,
      heldBy: [...new Set(this.table.holders(name).map((holder) => holder.worker))],
    }));
  }

  private deliver(grants: readonly LockGrant[]): void {
    const now = this.deps.now();
    for (const grant of grants) {
      const queued = this.requestedAt.get(grant.worker);
      const since = queued?.get(grant.token);
      queued?.delete(grant.token);
      const waitedSeconds = since === undefined ? 0 : Math.max(0, now - since) / 1000;
      this.deps.send(grant.worker, { type: 'lock_granted', token: grant.token, waitedSeconds });
    }
  }

  private disagree(worker: WorkerId, name: string, permits: number, before: number): void {
    const key = `${name}\u0000${permits}`;
    if (this.disagreements.has(key)) return;
    this.disagreements.add(key);
    this.deps.disagreement?.({ name, worker, permits, before, capacity: this.table.capacity(name) ?? before });
  }

  private queuedAt(worker: WorkerId): Map<string, number> {
    let queued = this.requestedAt.get(worker);
    if (queued === undefined) {
      queued = new Map();
      this.requestedAt.set(worker, queued);
    }
    return queued;
  }
}
