/**
 * The core's record of one worker process: who it is (role, pool slot, xdist id), its lifecycle,
 * and what the watchdog and the blame need to know of it. What it holds and runs is not here: the
 * scheduler owns that (`Scheduler.runningOn`, `heldBy`).
 *
 * The lifecycle is private and changes only through `moveTo`, which checks the transition against
 * the table below: an illegal one changes nothing and is returned as an internal error for the
 * core to report. Every legal change is returned as a `worker_state` event.
 */
import type { CollectErrorReport, CollectSkipReport } from '../model/report.js';
import type { KillReason } from '../model/cause.js';
import type { RunEventBody } from '../model/event.js';
import type { LeakedProcess, WorkerId } from '../model/test.js';
import type { IndexMap } from './index-map.js';
import { ProgressMeter } from './progress-meter.js';
import type { CollectScope } from './targeted-collection.js';
import type { WatchedWorker } from './watchdog.js';

/** starting → collecting → ready → finishing → exited; any state may end in `exited`. */
export type Lifecycle = 'starting' | 'collecting' | 'ready' | 'finishing' | 'exited';

/** What a worker is for: a pool member, a warm spare, or a fresh worker for one isolated retry. */
export type WorkerRole = 'pool' | 'standby' | 'isolated';

const LEGAL: Readonly<Record<Lifecycle, readonly Lifecycle[]>> = {
  starting: ['collecting', 'finishing', 'exited'],
  collecting: ['ready', 'finishing', 'exited'],
  ready: ['finishing', 'exited'],
  finishing: ['exited'],
  exited: [],
};

export type Transition = { ok: true; event: RunEventBody | null } | { ok: false; error: string };

export class WorkerRecord {
  #state: Lifecycle = 'starting';
  pid: number | null = null;
  /** The running test's start, its timeout, and when the next SLOW notice is due (seconds of silence). */
  runningSince: number | null = null;
  runningTimeout: number | null = null;
  nextBusyNotice: number | null = null;
  sessionDone = false;
  ranTests = false;
  protocolViolation: string | null = null;
  collectedIds: string[] | null = null;
  /** What this worker's collection reported; the first worker's is the run's. */
  readonly collectErrors: CollectErrorReport[] = [];
  readonly collectSkips: CollectSkipReport[] = [];
  readyAt: number | null = null;
  /** Processes its tests left running, as reported: killed when the worker ends. */
  readonly leaked: LeakedProcess[] = [];
  lastHeartbeat: number | null = null;
  readonly progress = new ProgressMeter();
  /** Its resident size when its current test began, as last measured (for admission and OOM reports). */
  baselineBytes: number | null = null;
  /** Why the core decided to kill it: the first reason wins, and its exit is classified from it. */
  killReason: KillReason | null = null;
  /** A kill is under way (staged or hard): nothing more to decide about it. */
  terminating = false;
  /** Runs one test with nothing beside it: its cap and the run's limit are raised while it does. */
  lone = false;
  /** Its suite index <-> its own, once it collected part of the suite (targeted-collection.ts); null: the same. */
  indexMap: IndexMap | null = null;

  constructor(
    readonly id: WorkerId,
    /** The pool position it fills: replacements of a slot share its restart backoff. */
    public slotIndex: number,
    public role: WorkerRole,
    public isolatedFor: number | null,
    readonly startedAt: number,
    /** Its pytest-xdist id's number (gwN), fixed for its life; null when identity is off. */
    readonly xdistIndex: number | null,
    /** The only files it collects (a fresh worker for an isolated retry); null: the whole suite. */
    readonly collectScope: CollectScope | null = null,
  ) {}

  get name(): string {
    return `worker ${this.id}${this.pid !== null ? ` (pid ${this.pid})` : ''}`;
  }

  get state(): Lifecycle {
    return this.#state;
  }

  /** The one way the lifecycle changes. Moving to the state it is in already is no change. */
  moveTo(next: Lifecycle): Transition {
    const from = this.#state;
    if (from === next) return { ok: true, event: null };
    if (!LEGAL[from].includes(next)) return { ok: false, error: `${this.name}: illegal lifecycle transition ${from} → ${next}` };
    this.#state = next;
    return { ok: true, event: { type: 'worker_state', worker: this.id, from, to: next } };
  }

  /** Started and not yet told to end: it still counts towards its pool. */
  get isLive(): boolean {
    return this.#state === 'starting' || this.#state === 'collecting' || this.#state === 'ready';
  }

  get exited(): boolean {
    return this.#state === 'exited';
  }

  /**
   * Being killed because of its running test (a timeout, a hang, its memory cap): the verdict is
   * in, and what it still says about that test (a late `passed`, after the test was cut short or
   * woken by a signal) must not change it.
   */
  get killedForItsTest(): boolean {
    const kind = this.killReason?.kind;
    return kind === 'timeout' || kind === 'unresponsive' || kind === 'memory_cap';
  }

  /** What the watchdog needs to judge its deadlines; `running` from the scheduler. */
  watched(running: boolean): WatchedWorker {
    return {
      id: this.id,
      ready: this.readyAt !== null,
      startedAt: this.startedAt,
      readyAt: this.readyAt,
      lastHeartbeat: this.lastHeartbeat,
      running: running && this.runningSince !== null ? { startedAt: this.runningSince, timeoutSeconds: this.runningTimeout } : null,
      lastProgress: this.progress.lastProgress,
      lastProgressFrom: this.progress.lastProgressFrom,
      stopped: this.progress.stopped,
      terminating: this.terminating,
    };
  }
}
