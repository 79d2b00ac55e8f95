/**
 * `--json PATH`: bulkhead's own result file. Stable and versioned: fields are only ever added
 * within a version; a change of meaning bumps `version`.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExitCause } from '../model/cause.js';
import type { RunEndReason, RunEvent } from '../model/event.js';
import { OUTCOME_KINDS, describeCrash, describeRetry, type BesideTest, type FinalOutcome, type FlakyKind, type OutcomeKind } from '../model/outcome.js';
import type { Phase } from '../model/report.js';
import type { TestInfo } from '../model/test.js';
import type { Reporter } from './reporter.js';

export const JSON_FORMAT_VERSION = 1;

interface JsonPhase {
  when: Phase;
  outcome: string;
  duration: number;
  longrepr: string;
  sections: Array<[string, string]>;
}

interface JsonTest {
  id: string;
  file: string;
  line: number | null;
  markers: string[];
  outcome: OutcomeKind;
  /** Skip/xfail reason, not-run reason, or the crash description. */
  reason: string | null;
  cause: ExitCause | null;
  stderrTail: string | null;
  /** Python stacks of all threads when the worker died (faulthandler). */
  stacks: string | null;
  /** What running it again alone showed, for a test that crashed (or a flaky one: it passed alone). */
  isolatedRetry: string | null;
  /** The isolated retry's own death, when it crashed again alone: its cause and numbers. */
  retryCause: ExitCause | null;
  /** Why a test that passed in the end is flaky (`load`: it failed only under parallel load); null otherwise. */
  flaky: FlakyKind | null;
  /** The tests running in other workers when its worker died, with their memory then. */
  beside: BesideTest[];
  /** Peak memory above the worker's baseline while it ran, where measured. */
  peakMemoryBytes: number | null;
  /** Processes the test left running. */
  leaked: Array<{ pid: number; cmd: string }>;
  /** Cross-worker locks it took (`bulkhead_lock`), in order, with the seconds it waited for each. */
  locks: Array<{ name: string; waitedSeconds: number }>;
  duration: number;
  worker: number | null;
  phases: JsonPhase[];
}

/** Phases in the order they run: plain ones arrive with the test's end, after any sent whole. */
const PHASE_ORDER: Record<Phase, number> = { setup: 0, call: 1, teardown: 2 };

export class JsonReporter implements Reporter {
  readonly name = 'json';
  private readonly tests = new Map<string, JsonTest>();
  private readonly order: string[] = [];
  /** As recorded on `run_started` (this reporter never reads a clock); null when none was. */
  private startedAt: string | null = null;
  private run: Record<string, unknown> = {};
  private collectErrors: Array<{ nodeid: string; longrepr: string }> = [];
  private warnings = 0;
  private memory: Record<string, unknown> = {};
  private deselected = 0;
  private end: { exitCode: number; reason: RunEndReason; durationSeconds: number } | null = null;

  constructor(private readonly path: string) {}

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'run_started':
        this.startedAt = event.origin?.startedAt ?? null;
        this.run = { workers: event.workers, pytestArgs: event.pytestArgs, cwd: event.cwd, artifactsDir: event.artifactsDir };
        break;
      case 'session_info':
        this.run = { ...this.run, rootdir: event.info.rootdir, python: event.info.pythonVersion, pytest: event.info.pytestVersion };
        break;
      case 'collection_finished':
        for (const test of event.tests) this.entry(test);
        this.deselected = event.deselected;
        this.collectErrors = event.errors.map((error) => ({ nodeid: error.nodeid, longrepr: error.pytest.longrepr }));
        break;
      case 'test_report': {
        const test = this.tests.get(event.report.testId);
        if (!test) break;
        test.worker = event.worker;
        test.phases.push({
          when: event.report.when,
          outcome: event.report.outcome,
          duration: event.report.duration,
          longrepr: event.report.pytest.longrepr,
          sections: event.report.sections,
        });
        break;
      }
      case 'test_finished': {
        const test = this.tests.get(event.testId);
        if (!test) break;
        test.outcome = event.outcome.kind;
        test.duration = event.duration;
        if (event.plain !== undefined && event.plain.length > 0) {
          test.worker = event.worker;
          for (const [when, duration] of event.plain) test.phases.push({ when, outcome: 'passed', duration, longrepr: '', sections: [] });
          test.phases.sort((a, b) => PHASE_ORDER[a.when] - PHASE_ORDER[b.when]);
        }
        test.reason = reasonOf(event.testId, event.outcome);
        test.leaked = event.leaked.map(({ pid, cmd }) => ({ pid, cmd }));
        test.peakMemoryBytes = event.memory?.peakBytes ?? null;
        test.locks = event.locks.map(({ name, waitedSeconds }) => ({ name, waitedSeconds }));
        if (event.outcome.kind === 'crashed' || event.outcome.kind === 'flaky') {
          const { crash } = event.outcome;
          test.cause = crash.cause;
          test.stderrTail = crash.stderrTail;
          test.stacks = crash.stacks;
          test.worker = crash.worker;
          test.beside = crash.beside ?? [];
          if (event.outcome.kind === 'flaky') {
            test.flaky = event.outcome.flaky;
            test.isolatedRetry = describeRetry({ verdict: 'passed_alone' });
          } else {
            const retry = event.outcome.retry;
            test.isolatedRetry = retry ? describeRetry(retry) : null;
            test.retryCause = retry?.verdict === 'crashes_alone' ? retry.attempt.cause : null;
          }
        }
        break;
      }
      case 'memory_control':
        this.memory = { ...this.memory, ...event.control };
        break;
      case 'memory_summary':
        this.memory = { ...this.memory, runPeakBytes: event.runPeakBytes };
        break;
      case 'warning':
        this.warnings += 1;
        break;
      case 'run_finished':
        this.end = { exitCode: event.exitCode, reason: event.reason, durationSeconds: event.durationSeconds };
        break;
      default:
        break;
    }
  }

  async close(): Promise<void> {
    const tests = this.order.map((id) => this.tests.get(id)!);
    const summary: Record<string, number> = Object.fromEntries(OUTCOME_KINDS.map((kind) => [kind, 0]));
    for (const test of tests) summary[test.outcome] = (summary[test.outcome] ?? 0) + 1;
    const document = {
      format: 'bulkhead-results',
      version: JSON_FORMAT_VERSION,
      run: {
        ...this.run,
        startedAt: this.startedAt,
        durationSeconds: this.end?.durationSeconds ?? null,
        exitCode: this.end?.exitCode ?? null,
        end: this.end?.reason ?? null,
        memory: this.memory,
      },
      summary: { total: tests.length, ...summary, deselected: this.deselected, collectErrors: this.collectErrors.length, warnings: this.warnings },
      collectErrors: this.collectErrors,
      tests,
    };
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(this.path, `${JSON.stringify(document, null, 2)}\n`);
  }

  private entry(test: TestInfo): void {
    if (this.tests.has(test.id)) return;
    this.order.push(test.id);
    this.tests.set(test.id, {
      id: test.id,
      file: test.file,
      line: test.line,
      markers: test.markers,
      outcome: 'not_run',
      reason: 'never scheduled',
      cause: null,
      stderrTail: null,
      stacks: null,
      isolatedRetry: null,
      retryCause: null,
      flaky: null,
      beside: [],
      leaked: [],
      locks: [],
      peakMemoryBytes: null,
      duration: 0,
      worker: null,
      phases: [],
    });
  }
}

function reasonOf(testId: string, outcome: FinalOutcome): string | null {
  switch (outcome.kind) {
    case 'skipped':
    case 'xfailed':
    case 'not_run':
      return outcome.reason;
    case 'interrupted':
      return outcome.detail;
    case 'crashed':
    case 'flaky':
      return describeCrash(testId, outcome.crash);
    default:
      return null;
  }
}
