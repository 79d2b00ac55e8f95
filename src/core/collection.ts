/**
 * The collection phase: every worker collects the suite; the first to finish defines it (its
 * session info, its collection errors and skips are the run's), and every later one must match.
 * A session pytest ended by itself (a usage error, a path not found) ends the run with pytest's
 * own words from that worker's stderr.
 */
import type { WorkerMessage } from '../adapters/messages.js';
import { assertNever } from '../model/assert-never.js';
import type { SessionInfo } from '../model/event.js';
import { ExitCode } from '../model/exit-code.js';
import type { TestInfo } from '../model/test.js';
import { judgeCollection, type CollectionVerdict } from './collection-gate.js';
import { pytestVerdict } from './exit-cause.js';
import type { Step } from './step.js';
import { judgeTargeted } from './targeted-collection.js';
import type { WorkerRecord } from './worker-record.js';

type Collected = Extract<WorkerMessage, { type: 'collected' }>;

export class Collection {
  /** The worker whose collection defines the suite. */
  reference: WorkerRecord | null = null;
  session: SessionInfo | null = null;
  collectErrors = 0;
  /** A worker whose pytest ended its session itself: it is left to end, and its stderr says why. */
  endedByPytest: WorkerRecord | null = null;
  private stderrDetail: string | null = null;

  onSession(message: Extract<WorkerMessage, { type: 'session' }>, out: Step): void {
    if (this.session !== null) return;
    const { info } = message;
    this.session = info;
    out.event({ type: 'session_info', info });
    // What the framework's adapter had to say about the session (pytest-xdist's -n, ignored).
    for (const text of info.notices) out.event({ type: 'framework_notice', text });
  }

  /**
   * Warnings raised while collecting or configuring happen once in every worker: the reference
   * worker's only are taken, as one pytest process would have raised them once.
   */
  takesWarning(record: WorkerRecord, when: string): boolean {
    return (when !== 'collect' && when !== 'config') || record === this.reference;
  }

  /**
   * A worker's collection judged; `defines`: it is the first, and `tests` is the run's suite.
   * `suite`: the run's suite, once defined (a partial collection is checked file by file against it).
   */
  onCollected(record: WorkerRecord, message: Collected, suite: readonly TestInfo[], out: Step): { verdict: CollectionVerdict; defines: boolean; tests: TestInfo[] } {
    record.collectedIds = message.tests.map((test) => test.id);
    if (this.reference !== null && record.collectScope !== null && record.isolatedFor !== null) {
      return { verdict: this.judgePartial(record, message.tests, suite, record.isolatedFor), defines: false, tests: [] };
    }
    const reference = this.reference ? { name: this.reference.name, ids: this.reference.collectedIds ?? [] } : null;
    const verdict = judgeCollection(
      {
        tests: message.tests,
        errors: record.collectErrors.length,
        interrupted: message.interrupted,
        exitstatus: message.exitstatus,
        continueOnCollectionErrors: this.session?.continueOnCollectionErrors ?? false,
      },
      reference,
      record.name,
    );
    if (verdict.kind === 'end' && verdict.pytestEndedSession) this.endedByPytest = record;
    if (reference !== null) return { verdict, defines: false, tests: [] };
    this.reference = record;
    this.collectErrors = record.collectErrors.length;
    out.event({
      type: 'collection_finished',
      tests: verdict.kind === 'end' && verdict.pytestEndedSession ? [] : message.tests,
      deselected: message.deselected,
      errors: record.collectErrors,
      skips: record.collectSkips,
    });
    return { verdict, defines: true, tests: verdict.kind === 'start' ? verdict.tests : message.tests };
  }

  /**
   * A worker that collected only its test's file(s): each file must hold the reference's tests of
   * that file; its indices are then translated by its map. Without the test, or with a file that
   * differs, the whole suite is collected instead (targeted-collection.ts): the difference may be
   * of our making (a conftest.py off the file's path, not loaded, whose hook changes the tests), and
   * a whole collection is then compared as any worker's is, ending the run if it differs too.
   */
  private judgePartial(record: WorkerRecord, tests: readonly TestInfo[], suite: readonly TestInfo[], needs: number): CollectionVerdict {
    const judged = judgeTargeted(suite, tests, needs, { reference: this.reference?.name ?? 'the reference', worker: record.name });
    switch (judged.kind) {
      case 'match':
        record.indexMap = judged.map;
        return { kind: 'join' };
      case 'mismatch':
      case 'missing':
        return { kind: 'collect_all' };
      default:
        return assertNever(judged);
    }
  }

  /** The worker pytest ended exited: what it said on stderr is the run's end. */
  onExit(record: WorkerRecord, stderrTail: string): void {
    if (record === this.endedByPytest && stderrTail.trim()) this.stderrDetail = pytestVerdict(stderrTail) || null;
  }

  /** pytest's own words for a session it ended, once its worker has exited. */
  get stderrVerdict(): string | null {
    return this.stderrDetail;
  }
}
