/**
 * The core's table of worker processes: which to start (pool members, warm spares, a fresh worker
 * for an isolated retry), when (restart backoff and the crash-loop breaker, from the pure
 * RestartPolicy), their xdist ids, and promoting a spare. It decides; the shell's runtime starts
 * and kills. It never hears a message: the core routes those.
 */
import { ExitCode } from '../model/exit-code.js';
import type { ExitCause } from '../model/cause.js';
import type { WorkerId } from '../model/test.js';
import { RestartPolicy } from '../scheduler/restart-policy.js';
import type { RunOptions } from './options.js';
import type { Step } from './step.js';
import type { CollectScope } from './targeted-collection.js';
import { killWorker, tellToEnd } from './worker-actions.js';
import { WorkerRecord, type WorkerRole } from './worker-record.js';
import { XdistIds } from './xdist-ids.js';
import { describeDeath, pytestVerdict } from './exit-cause.js';

/** The run cannot go on: why, and with which exit code. */
export interface AbortOrder {
  detail: string;
  exitCode: number;
}

/** What a worker is started as (now, or when its restart delay is over). */
interface DelayedStart {
  role: WorkerRole;
  slotIndex: number;
  isolatedFor: number | null;
  collect: CollectScope | null;
}

/** A crashed test waiting for its fresh worker, and the files that worker collects (null: all). */
interface PendingIsolated {
  index: number;
  collect: CollectScope | null;
}

const START_TIMER = 'start:';

export class WorkerTable {
  private readonly records = new Map<WorkerId, WorkerRecord>();
  private readonly policy: RestartPolicy;
  private readonly xdistIds = new XdistIds();
  private readonly restartDelays = new Map<number, number>();
  private readonly delayed = new Map<string, DelayedStart>();
  private nextId = 1;
  private nextTimer = 1;
  private stopped = false;
  /** A crashed test waiting for every other worker to end before its fresh worker starts. */
  private pendingIsolated: PendingIsolated | null = null;

  constructor(private readonly options: RunOptions) {
    this.policy = new RestartPolicy(options.restart);
  }

  get(id: WorkerId): WorkerRecord | undefined {
    return this.records.get(id);
  }

  /** Workers not yet exited. */
  live(): WorkerRecord[] {
    return [...this.records.values()].filter((record) => !record.exited);
  }

  allExited(): boolean {
    return this.delayed.size === 0 && this.pendingIsolated === null && [...this.records.values()].every((record) => record.exited);
  }

  testRan(): void {
    this.policy.testRan();
  }

  startInitial(now: number, out: Step): void {
    // Listing needs one collection only; the pool size still sizes what unknown tests are assumed to need.
    const workers = this.options.listOnly ? 1 : this.options.workers;
    for (let i = 0; i < workers; i += 1) this.spawn({ role: 'pool', slotIndex: i, isolatedFor: null, collect: null }, now, out);
    for (let i = 0; i < this.options.standby; i += 1) this.spawn({ role: 'standby', slotIndex: this.options.workers + i, isolatedFor: null, collect: null }, now, out);
  }

  /** The worker collected and matched the suite. Returns whether it may take tests now (a spare waits). */
  markReady(record: WorkerRecord, now: number, out: Step): boolean {
    // Told to end while it collected (the run stopped): its collection is read late, it stays ending.
    if (record.state === 'finishing') return false;
    record.readyAt = now;
    if (!out.transition(record, 'ready')) return false;
    out.event({ type: 'worker_ready', worker: record.id, collectSeconds: (now - record.startedAt) / 1000 });
    return record.role !== 'standby';
  }

  /**
   * Work remains and the pool is short (a worker was lost): promote a ready spare (returned: it may
   * take tests now) or start a worker, after the slot's backoff.
   */
  replenish(now: number, out: Step): WorkerRecord | null {
    if (this.stopped) return null;
    const live = [...this.records.values()].filter((record) => record.role === 'pool' && record.isLive).length;
    if (live + this.pendingStarts('pool') >= this.options.workers) return null;
    const spare = this.readySpare();
    const freeIndex = this.freePoolIndex();
    if (spare) {
      const standbyIndex = spare.slotIndex;
      spare.role = 'pool';
      spare.slotIndex = freeIndex;
      out.event({ type: 'standby_promoted', worker: spare.id, pid: spare.pid, slotIndex: freeIndex });
      this.spawnLater({ role: 'standby', slotIndex: standbyIndex, isolatedFor: null, collect: null }, 0, now, out);
      return spare;
    }
    this.spawnLater({ role: 'pool', slotIndex: freeIndex, isolatedFor: null, collect: null }, this.restartDelays.get(freeIndex) ?? 0, now, out);
    return null;
  }

  /**
   * A fresh worker for one crashed test, once every other worker has ended; `collect`: the only
   * files it collects (null: the whole suite).
   */
  requestIsolated(index: number, collect: CollectScope | null): void {
    this.pendingIsolated = { index, collect };
  }

  /**
   * An isolated retry's worker collected only its test's file, and the test was not in it: it is
   * told to end, and a fresh worker that collects the whole suite takes the retry once it exited.
   */
  collectAllInstead(record: WorkerRecord, out: Step): void {
    const index = record.isolatedFor;
    if (index === null) return;
    record.isolatedFor = null; // however it ends, it starts no successor of its own (judgeRestart)
    tellToEnd(record, 'stop', out);
    this.requestIsolated(index, null);
  }

  /**
   * Starts the pending isolated retry if nothing else is alive (or about to start). Returns the ready
   * spare adopted for it, if one was: it is as fresh as a new worker, without the collection.
   */
  startIsolatedWhenAlone(now: number, out: Step): WorkerRecord | null {
    const pending = this.pendingIsolated;
    if (pending === null) return null;
    if (this.stopped) {
      this.pendingIsolated = null;
      return null;
    }
    const others = [...this.records.values()].some((record) => record.role !== 'standby' && !record.exited);
    if (others || this.delayed.size > 0) return null;
    this.pendingIsolated = null;
    const spare = this.readySpare();
    if (spare) {
      spare.role = 'isolated';
      spare.slotIndex = -1;
      spare.isolatedFor = pending.index;
      spare.lone = true;
      out.command({ type: 'set_lone', worker: spare.id, lone: true, isolated: true });
      return spare;
    }
    this.spawn({ role: 'isolated', slotIndex: -1, isolatedFor: pending.index, collect: pending.collect }, now, out);
    return null;
  }

  /** The run stopped: workers with no test to finish (starting, collecting, spares) are told to end. */
  stopIdle(detail: string, keep: WorkerRecord | null, out: Step): void {
    this.stopped = true;
    this.pendingIsolated = null;
    for (const record of this.records.values()) {
      if (record === keep) continue;
      if (record.state === 'starting' || record.state === 'collecting') {
        tellToEnd(record, 'stop', out);
        killWorker(record, { kind: 'shutdown', detail }, out);
      } else if (record.role === 'standby' && record.state === 'ready') {
        tellToEnd(record, 'stop', out);
      }
    }
    this.delayed.clear();
  }

  /**
   * The suite is done: spares are no longer needed, nor pool workers still starting or collecting
   * (a replacement, a slow collection): waiting for one to collect only to tell it to finish would
   * hold the run's end for as long as its collection takes, up to --startup-timeout.
   */
  retireIdle(out: Step): void {
    this.stopped = true;
    for (const record of this.records.values()) {
      if (record.role === 'isolated') continue;
      if (record.state === 'starting' || record.state === 'collecting') killWorker(record, { kind: 'shutdown', detail: 'suite done' }, out);
      else if (record.role === 'standby' && record.state === 'ready') tellToEnd(record, 'stop', out);
    }
    for (const [key, start] of this.delayed) if (start.role === 'standby') this.delayed.delete(key);
  }

  /** Second Ctrl-C: nothing more starts, everything alive is killed now. */
  killAllNow(detail: string, out: Step): void {
    this.stopped = true;
    this.pendingIsolated = null;
    this.delayed.clear();
    for (const record of this.live()) killWorker(record, { kind: 'interrupted', detail }, out, { hard: true });
  }

  /** Kills every live worker (in stages). */
  terminateAll(detail: string, out: Step): void {
    for (const record of this.live()) killWorker(record, { kind: 'interrupted', detail }, out);
  }

  /** A delayed start is due: start it, unless the run no longer needs it. Returns false for another key. */
  onTimer(key: string, hasWork: boolean, now: number, out: Step): boolean {
    if (!key.startsWith(START_TIMER)) return false;
    const start = this.delayed.get(key);
    if (!start) return true;
    this.delayed.delete(key);
    if (!this.stopped && (start.role !== 'pool' || hasWork)) this.spawn(start, now, out);
    return true;
  }

  /** Its id is free only now: its process and the children it left behind are gone. */
  exited(record: WorkerRecord): void {
    if (record.xdistIndex !== null) this.xdistIds.release(record.xdistIndex);
  }

  /** Restart backoff and the crash-loop breaker, for deaths that were not our doing. */
  judgeRestart(record: WorkerRecord, cause: ExitCause, facts: { spawnError: { message: string } | null; code: number | null; stderr: string; stacks: string }, now: number, out: Step): AbortOrder | null {
    if (this.stopped || cause.kind === 'finished' || cause.kind === 'stopped' || cause.kind === 'interrupted') return null;
    if (cause.kind === 'startup_failure') {
      if (facts.spawnError !== null) return { detail: `cannot start '${this.options.python}': ${facts.spawnError.message}`, exitCode: ExitCode.USAGE_ERROR };
      // pytest itself rejected the arguments or the ini: its own words are the message.
      if (facts.code === 4 && facts.stderr) return { detail: pytestVerdict(facts.stderr), exitCode: ExitCode.USAGE_ERROR };
    }
    const decision = this.policy.workerDied(Math.max(0, record.slotIndex), now - record.startedAt, record.ranTests);
    if (decision.kind === 'crash_loop') {
      const evidence = [facts.stderr, facts.stacks ? `Python stacks (faulthandler):\n${facts.stacks}` : ''].filter(Boolean).join('\n');
      this.stopped = true;
      return {
        detail:
          `${decision.deathsInARow} workers in a row died before running any test; the last, ${record.name}, ` +
          `${describeDeath(cause)}${evidence ? `:\n${evidence}` : ''}`,
        exitCode: ExitCode.INTERNAL_ERROR,
      };
    }
    if (record.role === 'pool') this.restartDelays.set(record.slotIndex, decision.delayMs);
    if (record.role === 'isolated' && record.readyAt === null && record.isolatedFor !== null) {
      // It never got to the test: its successor collects what it would have.
      this.spawnLater({ role: 'isolated', slotIndex: -1, isolatedFor: record.isolatedFor, collect: record.collectScope }, decision.delayMs, now, out);
    }
    if (record.role === 'standby') this.spawnLater({ role: 'standby', slotIndex: record.slotIndex, isolatedFor: null, collect: null }, decision.delayMs, now, out);
    return null;
  }

  // -- starting -------------------------------------------------------------------------------

  private readySpare(): WorkerRecord | undefined {
    return [...this.records.values()].find((record) => record.role === 'standby' && record.state === 'ready');
  }

  private pendingStarts(role: WorkerRole): number {
    return [...this.delayed.values()].filter((start) => start.role === role).length;
  }

  private freePoolIndex(): number {
    const used = new Set([...this.records.values()].filter((record) => record.role === 'pool' && record.isLive).map((record) => record.slotIndex));
    for (let i = 0; ; i += 1) if (!used.has(i)) return i;
  }

  private spawnLater(start: DelayedStart, delayMs: number, now: number, out: Step): void {
    if (delayMs <= 0) {
      this.spawn(start, now, out);
      return;
    }
    const key = `${START_TIMER}${this.nextTimer++}`;
    this.delayed.set(key, start);
    out.command({ type: 'timer', key, ms: delayMs });
  }

  private spawn({ role, slotIndex, isolatedFor, collect }: DelayedStart, now: number, out: Step): void {
    const id = this.nextId++;
    // A pool slot prefers its own index, so its replacement reuses the dead worker's id; a spare
    // the index past the pool it stands in; an isolated retry (all others ended) the lowest free.
    const xdistIndex = this.options.xdistIdentity ? this.xdistIds.claim(role === 'isolated' ? 0 : slotIndex) : null;
    const record = new WorkerRecord(id, slotIndex, role, isolatedFor, now, xdistIndex, collect);
    record.lone = role === 'isolated';
    this.records.set(id, record);
    out.command({ type: 'start', worker: id, role, xdistIndex, lone: record.lone, collect });
  }
}
