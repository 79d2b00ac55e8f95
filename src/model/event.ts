import type { SettingKey, SettingOrigin, TestSettings } from './settings.js';
import type { ExitCause } from './cause.js';
import type { PytestSession } from './pytest.js';
import type { CoverageOutcome, CoverageSession } from './coverage.js';
import type { CrashReport, FinalOutcome } from './outcome.js';
import type { CollectErrorReport, CollectSkipReport, PhaseReport, PlainPhase, WarningRecord } from './report.js';
import type { LeakedProcess, TestInfo } from './test.js';

/**
 * What the run knows about the framework's session, reported by the first worker. The run core
 * reads the neutral fields; `pytest` is the pytest adapter's payload (src/model/pytest.ts), read
 * only by the pytest-style renderers.
 */
export interface SessionInfo {
  rootdir: string;
  /** Stop after this many failures (pytest's `--maxfail`, `-x`); 0: never. */
  maxfail: number;
  /** Run the tests even though some failed to collect. */
  continueOnCollectionErrors: boolean;
  /** The per-test timeout the framework's own settings give (pytest-timeout's `timeout` ini), the last default. */
  frameworkTimeout: number | null;
  /** What the adapter wants said once about this session (options of the framework's that bulkhead replaces). */
  notices: string[];
  pythonVersion: string;
  pytestVersion: string;
  /** Set when coverage is measured (`--cov`): its options, for the combine step at the end of the run. */
  coverage?: CoverageSession | null;
  pytest: PytestSession;
}

/**
 * Everything that happens in a run, as plain JSON. Reporters only consume these, so a recorded
 * run can be replayed into any reporter.
 */
export type RunEventBody =
  | {
      type: 'run_started';
      workers: number;
      pytestArgs: string[];
      cwd: string;
      artifactsDir: string;
      /** Where and when, by the host's wall clock: stamped by the process that owns the clock (see RunOrigin). */
      origin?: RunOrigin;
    }
  | { type: 'session_info'; info: SessionInfo }
  /** Something went wrong inside bulkhead (`core`: an illegal worker lifecycle move) or pytest (`worker`: INTERNALERROR). */
  | { type: 'internal_error'; source: 'core' | 'worker'; worker?: number; detail: string }
  /** What the framework's adapter says about the session (e.g. pytest-xdist's `-n`, which bulkhead replaces). */
  | { type: 'framework_notice'; text: string }
  /** History (or a declaration) says this test needs more than the whole budget: it will run alone. */
  | { type: 'oversize_test'; testId: string; memoryBytes: number; budgetBytes: number }
  /** Tests handed to a worker, in the order it will run them. */
  | { type: 'test_assigned'; worker: number; testIds: string[] }
  /** A warm spare took the place of a lost pool worker. */
  | { type: 'standby_promoted'; worker: number; pid: number | null; slotIndex: number }
  /** A worker's idle memory grew past --worker-recycle-memory: it is replaced between tests. */
  | { type: 'worker_recycled'; worker: number; pid: number | null; residentBytes: number; limitBytes: number; afterTestId: string }
  /** The pressure guard: admission holds (`hold`) or starts again. */
  | { type: 'memory_pressure'; hold: boolean; availableBytes: number | null; reserveBytes: number }
  /** The pressure guard killed the newest test's worker; the test runs again alone later. */
  | { type: 'memory_eviction'; worker: number; pid: number | null; testId: string; availableBytes: number | null }
  /** Every live worker's resident memory, and the run's total against its budget (about once a second). */
  | { type: 'memory_sample'; workers: Array<{ worker: number; residentBytes: number }>; totalBytes: number; budgetBytes: number }
  /** The run's reaper could not start or died: should bulkhead die now, what its tests started may outlive it. */
  | { type: 'lifeline_lost'; detail: string }
  /** Tests wait and no worker has started one for a while: what each worker holds and why it waits. */
  | { type: 'stall'; seconds: number; detail: string }
  /** Callers of one cross-worker lock asked for different capacities; the smallest stands. */
  | { type: 'lock_disagreement'; name: string; worker: number; permits: number; before: number; capacity: number }
  /** A worker that had run tests died between them: no test is blamed, its queued tests go elsewhere. */
  | { type: 'worker_died_between_tests'; worker: number; pid: number | null; cause: ExitCause; stderrLastLine: string }
  /** `bulkhead list`: every collected test with its effective settings and where each came from. */
  | { type: 'test_plan'; tests: PlannedTest[] }
  | {
      type: 'collection_finished';
      tests: TestInfo[];
      deselected: number;
      errors: CollectErrorReport[];
      skips: CollectSkipReport[];
    }
  | { type: 'worker_started'; worker: number; pid: number | null }
  | { type: 'worker_ready'; worker: number; collectSeconds: number }
  | { type: 'worker_exited'; worker: number; pid: number | null; cause: ExitCause; testId: string | null }
  | { type: 'test_started'; testId: string; worker: number }
  | { type: 'test_report'; worker: number; report: PhaseReport }
  | {
      type: 'test_finished';
      testId: string;
      worker: number;
      outcome: FinalOutcome;
      duration: number;
      /** Processes the test left running (killed when its worker ends). */
      leaked: LeakedProcess[];
      /** Its memory peak above the worker's baseline, where measured. */
      memory: TestMemory | null;
      /** The cross-worker locks it took (`bulkhead_lock`), in order, with how long it waited for each. */
      locks: LockWait[];
      /**
       * The phases of its last attempt that passed with nothing to show: no `test_report` was sent
       * for them (see PlainPhase). Absent in recordings made before version 2.
       */
      plain?: PlainPhase[];
    }
  /**
   * A test's worker has sent no heartbeat for longer than the limit, but it keeps using the CPU (a
   * long C call holding the GIL): busy, not hung. It runs on; its timeout, if any, decides. Sent
   * when the silence passes the limit, then each time it doubles.
   */
  | {
      type: 'test_slow';
      testId: string;
      worker: number;
      silentSeconds: number;
      /** Its share of one CPU lately, in percent, where measured. */
      cpuPercent: number | null;
      /** Where it is now: the innermost frame of its main thread, from the latest stacks dump. */
      where: string | null;
      /** The file faulthandler's watchdog keeps refreshing with the test's Python stacks. */
      stacksFile: string | null;
    }
  /** A test took its worker down; its final outcome follows once any isolated retry is done. */
  | { type: 'test_crashed'; testId: string; crash: CrashReport; willRetry: boolean }
  | { type: 'worker_state'; worker: number; from: string; to: string }
  /** Which rung of the resource ladder is in force, printed at start and kept in every report. */
  | { type: 'memory_control'; control: MemoryControl }
  /** The run's memory at its end: its peak against the budget. */
  | { type: 'memory_summary'; runPeakBytes: number | null; budgetBytes: number }
  | { type: 'warning'; warning: WarningRecord }
  /** The workers' coverage combined at the end of the run, and pytest-cov's report of it. */
  | { type: 'coverage'; outcome: CoverageOutcome }
  | { type: 'run_finished'; exitCode: number; reason: RunEndReason; durationSeconds: number };

/**
 * Where and when a run began, by the wall clock of the machine that ran it. Stamped on
 * `run_started` by the process that owns the clock (runner/run.ts), never by the run core, so
 * that reporters can print dates and host names and still be pure functions of the events: a
 * replay on another day, in another time zone or on another host writes the same bytes.
 */
export interface RunOrigin {
  /** ISO 8601 in UTC with milliseconds, e.g. `2026-12-02T10:11:12.345Z`. */
  startedAt: string;
  /** The local time zone's offset from UTC then, in minutes east (+60 for CET): pytest's JUnit timestamp is local time. */
  utcOffsetMinutes: number;
  hostname: string;
}

export interface MemoryControl {
  mechanism: 'cgroup-v2' | 'cgroup-v1' | 'rlimit-data+rss-watchdog';
  limitBytes: number;
  limitSource: string;
  budgetBytes: number;
  workerMaxBytes: number | null;
}

/** A test's memory: the worker's resident size when it started, and its peak above that. */
export interface TestMemory {
  baselineBytes: number;
  peakBytes: number;
  /** The worker's resident memory once the test was over, where measured. */
  residentBytes: number | null;
}

/** One cross-worker lock a test took, and how long it waited in line for it. */
export interface LockWait {
  name: string;
  waitedSeconds: number;
}

export type RunEndReason =
  | { kind: 'completed' }
  | { kind: 'maxfail'; failures: number }
  | { kind: 'collection_errors'; errors: number }
  | { kind: 'no_tests' }
  | { kind: 'interrupted'; detail: string }
  | { kind: 'aborted'; detail: string };

export type RunEvent = RunEventBody & { seq: number; t: number };

export interface PlannedTest {
  id: string;
  settings: TestSettings;
  /** Where each setting came from; null when no config or markers were consulted. */
  origins: Record<SettingKey, SettingOrigin> | null;
  /** The memory admission will expect, and whether it is known (declared or measured) or a guess. */
  memoryBytes: number;
  memoryKnown: boolean;
}
