import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { RunEvent } from '../model/event.js';
import type { JunitCollectCase, JunitFragment, JunitSession, JunitStats } from '../model/junit.js';
import type { FinalOutcome } from '../model/outcome.js';
import type { PhaseReport } from '../model/report.js';
import type { TestInfo } from '../model/test.js';
import type { Reporter } from './reporter.js';
import { crashedCases, notRunCases, NO_STATS, reportedCases, testcaseNames, type TestCases } from './junit-case.js';
import { binXmlEscape, element, serialize, type LocalTime } from './junit-xml.js';
import { defaultEnvelope, mergeSuiteProperties, suiteDocument, type RecordedSuiteProperties } from './junit-suite.js';

/** What the run knows of one test's JUnit rendering. */
interface TestState {
  worker: number;
  /** The last rendering its worker's pytest sent (cumulative: it replaces the one before). */
  fragment: JunitFragment | null;
  last: PhaseReport | null;
  /** Its worker died under it: what that attempt left is kept, whatever the isolated retry does. */
  crashed: boolean;
  /** Set by its final outcome. */
  result: TestCases | null;
}

interface CollectCase {
  xml: string;
  order: number;
  stat: keyof JunitStats;
}

/**
 * Writes the JUnit XML pytest's `--junitxml` writes, under every junit option. Each testcase is
 * rendered in the worker by pytest's own junitxml plugin (python/bulkhead_pytest/junit.py) and
 * arrives with the test's reports; this reporter puts them in pytest's order (collection order),
 * finishes the testcases of tests whose worker died (junit-case.ts), and writes the suite around
 * them with the whole run's counts (junit-suite.ts).
 *
 * It writes to bulkhead's `--junit PATH`, and to pytest's own `--junitxml PATH` when the pytest
 * arguments (or the ini's addopts) give one: workers never write that file themselves.
 */
export class JunitReporter implements Reporter {
  readonly name = 'junit';
  private session: JunitSession | null = null;
  private readonly collected = new Map<string, { index: number; test: TestInfo }>();
  private readonly collectCases: CollectCase[] = [];
  /** Every test that reported, in the order first seen. */
  private readonly tests = new Map<string, TestState>();
  /** When and where the run began, as recorded (this reporter never reads a clock or the host). */
  private startedAt: LocalTime = { epochMs: 0, utcOffsetMinutes: 0 };
  private hostname = '';
  private durationSeconds: number | null = null;
  /** The latest event's time (ms into the run): the duration of a run that has no `run_finished`. */
  private lastT = 0;
  /** Nothing to write (no --junit, and the session names no --junitxml): the rest is not kept. */
  private idle = false;

  /**
   * `path`: bulkhead's --junit, or null to write only where pytest's --junitxml says.
   * `options.pytestPath`: also write pytest's --junitxml file where the session names one (a
   * replay writes only where it is asked to).
   */
  constructor(
    private readonly path: string | null,
    private readonly options: { pytestPath: boolean } = { pytestPath: true },
  ) {}

  onEvent(event: RunEvent): void {
    if (this.idle) return;
    this.lastT = Math.max(this.lastT, event.t);
    switch (event.type) {
      case 'run_started':
        if (event.origin) {
          this.startedAt = { epochMs: Date.parse(event.origin.startedAt), utcOffsetMinutes: event.origin.utcOffsetMinutes };
          this.hostname = event.origin.hostname;
        }
        return;
      case 'session_info':
        this.session ??= event.info.pytest.junit;
        this.idle = this.path === null && (!this.options.pytestPath || (this.session?.xmlpath ?? null) === null);
        return;
      case 'collection_finished':
        event.tests.forEach((test, index) => this.collected.set(test.id, { index, test }));
        for (const error of event.errors) this.addCollectCase(error.nodeid, error.pytest.junit, 'error', 'collection failure', error.pytest.longrepr);
        for (const skip of event.skips) this.addCollectCase(skip.nodeid, skip.pytest.junit, 'skipped', 'collection skipped', skip.pytest.longrepr);
        return;
      case 'test_started': {
        // A new attempt after one cut short for no fault of the test's (memory pressure): the
        // worker renders it afresh. After a crash, the crashed attempt is what gets written.
        const state = this.tests.get(event.testId);
        if (state && !state.crashed && state.result === null) {
          state.fragment = null;
          state.last = null;
        }
        return;
      }
      case 'test_report': {
        const state = this.state(event.report.testId);
        if (state.crashed || state.result !== null) return;
        state.worker = event.worker;
        state.last = event.report;
        if (event.report.pytest.junit) state.fragment = event.report.pytest.junit;
        return;
      }
      case 'test_crashed':
        this.state(event.testId).crashed = true;
        return;
      case 'test_finished':
        this.finish(event.testId, event.outcome);
        return;
      case 'run_finished':
        this.durationSeconds = event.durationSeconds;
        return;
      default:
        return;
    }
  }

  async close(): Promise<void> {
    const pytestPath = this.options.pytestPath ? (this.session?.xmlpath ?? null) : null;
    const paths = [...new Set([this.path, pytestPath].filter((path) => path !== null).map((path) => resolve(path)))];
    if (paths.length === 0) return;
    const text = this.document();
    for (const file of paths) {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, text, 'utf8');
    }
  }

  private document(): string {
    const stats = { ...NO_STATS };
    let doubleFail = 0;
    const cases: string[] = [];
    for (const collect of [...this.collectCases].sort((a, b) => a.order - b.order)) {
      cases.push(collect.xml);
      stats[collect.stat] += 1;
    }
    const recorded: RecordedSuiteProperties[] = [];
    for (const state of this.inCollectionOrder()) {
      const result = state.result ?? reportedCases(state.fragment);
      cases.push(...result.cases);
      for (const key of Object.keys(stats) as Array<keyof JunitStats>) stats[key] += result.stats[key];
      doubleFail += result.doubleFail;
      if (result.suiteProperties.length > 0) recorded.push({ worker: state.worker, properties: result.suiteProperties });
    }
    const totals = { stats, doubleFail, startedAt: this.startedAt, durationSeconds: this.durationSeconds ?? this.lastT / 1000 };
    return suiteDocument(this.session?.envelope ?? defaultEnvelope(this.hostname), totals, mergeSuiteProperties(recorded), cases);
  }

  /** pytest writes testcases in the order it ran the tests: collection order, whichever worker ran them. */
  private inCollectionOrder(): TestState[] {
    const unknown = Number.MAX_SAFE_INTEGER;
    const entries = [...this.tests.entries()].map(([id, state], seen) => ({ state, seen, index: this.collected.get(id)?.index ?? unknown }));
    entries.sort((a, b) => a.index - b.index || a.seen - b.seen);
    return entries.map(({ state }) => state);
  }

  private state(id: string): TestState {
    let state = this.tests.get(id);
    if (!state) {
      state = { worker: 0, fragment: null, last: null, crashed: false, result: null };
      this.tests.set(id, state);
    }
    return state;
  }

  private finish(id: string, outcome: FinalOutcome): void {
    const state = this.state(id);
    if (state.result !== null) return;
    state.result = this.casesOf(id, state, outcome);
    // Only the rendered testcases are kept to the end of the run.
    state.fragment = null;
    state.last = null;
  }

  private casesOf(id: string, state: TestState, outcome: FinalOutcome): TestCases {
    switch (outcome.kind) {
      case 'crashed':
      case 'flaky': {
        const test = this.collected.get(id)?.test;
        const place = { id, file: test?.file ?? null, line: test?.line ?? null };
        return crashedCases(place, outcome, state.fragment, state.last, this.session);
      }
      case 'not_run':
        return notRunCases(state.fragment);
      default:
        return reportedCases(state.fragment);
    }
  }

  private addCollectCase(nodeid: string, junit: JunitCollectCase | null | undefined, stat: 'error' | 'skipped', message: string, longrepr: string): void {
    if (junit) {
      this.collectCases.push({ xml: junit.xml, order: junit.order, stat });
      return;
    }
    // A worker that rendered nothing (a recording from before workers rendered JUnit): pytest's form.
    const attrs = testcaseNames({ id: nodeid, file: null, line: null }, this.session);
    const node = element('testcase', [...attrs, ['time', '0.000']], null, [element(stat, [['message', message]], binXmlEscape(longrepr))]);
    this.collectCases.push({ xml: serialize(node), order: this.collectCases.length + 1, stat });
  }
}
