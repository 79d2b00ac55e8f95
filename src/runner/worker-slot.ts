import type { CollectErrorReport, CollectSkipReport } from '../model/report.js';
import type { WorkerProcess } from '../supervisor/worker-process.js';

/** The lifecycle of one worker, in order. Every transition is announced. */
export type SlotState = 'starting' | 'collecting' | 'ready' | 'finishing' | 'exited';

/** The run loop's record of one worker. */
export class WorkerSlot {
  private stateValue: SlotState = 'starting';
  process: WorkerProcess | null = null;
  pid: number | null = null;
  /** Tests handed to this worker and not started, by index, in order. */
  readonly assigned: number[] = [];
  running: number | null = null;
  sessionDone = false;
  protocolViolation: string | null = null;
  internalError: string | null = null;
  collectedIds: string[] | null = null;
  /** What this worker's collection reported; the first worker's is the run's. */
  readonly collectErrors: CollectErrorReport[] = [];
  readonly collectSkips: CollectSkipReport[] = [];
  startedAt: number;

  constructor(
    readonly id: number,
    startedAt: number,
    private readonly onTransition: (slot: WorkerSlot, from: SlotState, to: SlotState) => void,
  ) {
    this.startedAt = startedAt;
  }

  get name(): string {
    return `worker ${this.id}${this.pid !== null ? ` (pid ${this.pid})` : ''}`;
  }

  get state(): SlotState {
    return this.stateValue;
  }

  set state(next: SlotState) {
    const previous = this.stateValue;
    if (previous === next) return;
    this.stateValue = next;
    this.onTransition(this, previous, next);
  }

  get isLive(): boolean {
    return this.stateValue === 'starting' || this.stateValue === 'collecting' || this.stateValue === 'ready';
  }
}
