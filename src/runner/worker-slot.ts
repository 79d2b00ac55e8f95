import type { CollectErrorReport, CollectSkipReport } from '../model/report.js';
import { ProgressMeter } from '../supervisor/progress-meter.js';
import type { WatchedWorker } from '../supervisor/watchdog.js';
import type { WorkerProcess } from '../supervisor/worker-process.js';

/** The lifecycle of one worker, in order. Every transition is announced. */
export type SlotState = 'starting' | 'collecting' | 'ready' | 'finishing' | 'exited';

/** What a worker is for: a pool member, a warm spare, or a fresh worker for one isolated retry. */
export type SlotRole = 'pool' | 'standby' | 'isolated';

/** The run loop's record of one worker process. */
export class WorkerSlot {
  private stateValue: SlotState = 'starting';
  process: WorkerProcess | null = null;
  pid: number | null = null;
  /** Tests handed to this worker and not started, by index, in order. */
  readonly assigned: number[] = [];
  running: number | null = null;
  runningSince: number | null = null;
  runningTimeout: number | null = null;
  sessionDone = false;
  ranTests = false;
  protocolViolation: string | null = null;
  collectedIds: string[] | null = null;
  /** What this worker's collection reported; the first worker's is the run's. */
  readonly collectErrors: CollectErrorReport[] = [];
  readonly collectSkips: CollectSkipReport[] = [];
  readyAt: number | null = null;
  /** Processes its tests left running, as reported: killed when the worker ends. */
  readonly leaked: Array<{ pid: number; startTime: number }> = [];
  lastHeartbeat: number | null = null;
  /** Its CPU time, sampled while it runs a test: busy or hung when the heartbeat is silent. */
  readonly progress = new ProgressMeter();
  /** Silence (seconds) at which the next "busy without a heartbeat" notice is due for its test. */
  nextBusyNotice: number | null = null;
  /** Its resident size when its current test began, as last measured (for OOM reports). */
  baselineBytes: number | null = null;
  /** Its pytest-xdist id's number (gwN), fixed for its life; null when identity is off. */
  xdistIndex: number | null = null;

  constructor(
    readonly id: number,
    /** The pool position it fills: replacements of a slot share its restart backoff. */
    public slotIndex: number,
    public role: SlotRole,
    public isolatedFor: number | null,
    readonly startedAt: number,
    readonly crashFile: string,
    /** Where faulthandler's watchdog writes the running test's stacks, without a signal. */
    readonly stacksFile: string,
    private readonly onTransition: (slot: WorkerSlot, from: SlotState, to: SlotState) => void,
  ) {}

  get name(): string {
    return `worker ${this.id}${this.pid !== null ? ` (pid ${this.pid})` : ''}`;
  }

  get state(): SlotState {
    return this.stateValue;
  }

  set state(next: SlotState) {
    const previous = this.stateValue;
    if (previous === next || previous === 'exited') return;
    this.stateValue = next;
    this.onTransition(this, previous, next);
  }

  /** What the watchdog needs to judge its deadlines. */
  watched(): WatchedWorker {
    return {
      id: this.id,
      ready: this.readyAt !== null,
      startedAt: this.startedAt,
      readyAt: this.readyAt,
      lastHeartbeat: this.lastHeartbeat,
      running: this.running !== null && this.runningSince !== null ? { startedAt: this.runningSince, timeoutSeconds: this.runningTimeout } : null,
      lastProgress: this.progress.lastProgress,
      lastProgressFrom: this.progress.lastProgressFrom,
      stopped: this.progress.stopped,
      terminating: this.process?.terminating ?? false,
    };
  }

  /** Tests it gave back (stolen, or dropped when it stopped) are no longer held. */
  dropAssigned(indices: readonly number[]): void {
    const given = new Set(indices);
    for (let i = this.assigned.length - 1; i >= 0; i -= 1) {
      if (given.has(this.assigned[i]!)) this.assigned.splice(i, 1);
    }
  }

  /**
   * Being killed because of its running test (a timeout, a hang, its memory cap): the verdict is
   * in, and what it still says about that test (a late `passed`, after the test was cut short or
   * woken by a signal) must not change it.
   */
  get killedForItsTest(): boolean {
    const kind = this.process?.killReason?.kind;
    return kind === 'timeout' || kind === 'unresponsive' || kind === 'memory_cap';
  }

  /** Started and not yet told to end: it still counts towards its pool. */
  get isLive(): boolean {
    return this.stateValue === 'starting' || this.stateValue === 'collecting' || this.stateValue === 'ready';
  }
}
