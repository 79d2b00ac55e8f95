/**
 * The collection phase: every worker collects the suite; the first to finish defines it (its
 * session info, its collection errors and skips are the run's), and every later one must match.
 */
import type { WorkerMessage } from '../adapters/messages.js';
import { assertNever } from '../model/assert-never.js';
import type { RunEndReason, RunEventBody, SessionInfo } from '../model/event.js';
import type { TestInfo } from '../model/test.js';
import { judgeCollection } from './collection-gate.js';
import type { WorkerSlot } from './worker-slot.js';

export interface CollectionHost {
  emit(event: RunEventBody): void;
  runEnded(): boolean;
  /** The suite is known (also when the run will not go on: reports still list it). */
  startSuite(tests: TestInfo[]): void;
  /** Hand the suite to the scheduler (empty when the run ends here). */
  schedule(tests: TestInfo[]): void;
  ready(slot: WorkerSlot): void;
  stop(slot: WorkerSlot): void;
  /** pytest ended this worker's session itself and will say why on stderr. */
  endedByPytest(slot: WorkerSlot): void;
  endRun(reason: RunEndReason, exitCode: number): void;
}

type Collected = Extract<WorkerMessage, { type: 'collected' }>;

export class CollectionPhase {
  referenceSlot: WorkerSlot | null = null;
  session: SessionInfo | null = null;
  collectErrors = 0;

  constructor(private readonly host: CollectionHost) {}

  onSession(message: Extract<WorkerMessage, { type: 'session' }>): void {
    if (this.session !== null) return;
    const { info } = message;
    this.session = info;
    this.host.emit({ type: 'session_info', info });
    for (const notice of info.notices) this.host.emit({ type: 'notice', message: notice });
  }

  /**
   * Warnings raised while collecting or configuring happen once in every worker: the reference
   * worker's only are taken, as one pytest process would have raised them once.
   */
  takesWarning(slot: WorkerSlot, when: string): boolean {
    return (when !== 'collect' && when !== 'config') || slot === this.referenceSlot;
  }

  onCollected(slot: WorkerSlot, message: Collected): void {
    slot.collectedIds = message.tests.map((test) => test.id);
    const reference = this.referenceSlot ? { name: this.referenceSlot.name, ids: this.referenceSlot.collectedIds ?? [] } : null;
    const verdict = judgeCollection(
      {
        tests: message.tests,
        errors: slot.collectErrors.length,
        interrupted: message.interrupted,
        exitstatus: message.exitstatus,
        continueOnCollectionErrors: this.session?.continueOnCollectionErrors ?? false,
      },
      reference,
      slot.name,
    );
    if (reference === null) {
      this.referenceSlot = slot;
      this.host.startSuite(verdict.kind === 'start' ? verdict.tests : message.tests);
      this.collectErrors = slot.collectErrors.length;
      this.host.emit({
        type: 'collection_finished',
        tests: verdict.kind === 'end' && verdict.pytestEndedSession ? [] : message.tests,
        deselected: message.deselected,
        errors: slot.collectErrors,
        skips: slot.collectSkips,
      });
    }
    switch (verdict.kind) {
      case 'start':
        this.host.schedule(verdict.tests);
        this.host.ready(slot);
        return;
      case 'join':
        if (this.host.runEnded()) this.host.stop(slot);
        else this.host.ready(slot);
        return;
      case 'end':
        if (verdict.pytestEndedSession) this.host.endedByPytest(slot);
        else this.host.stop(slot);
        if (reference === null) this.host.schedule([]);
        this.host.endRun(verdict.reason, verdict.exitCode);
        return;
      default:
        assertNever(verdict);
    }
  }
}
