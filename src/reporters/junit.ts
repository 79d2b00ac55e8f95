import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { RunEvent } from '../model/event.js';
import { crashType, describeBeside, describeCrash, describeCrashFully, describeRetry, type CrashReport, type FinalOutcome } from '../model/outcome.js';
import type { CollectErrorReport, CollectSkipReport, PhaseReport } from '../model/report.js';
import type { Reporter } from './reporter.js';
import {
  binXmlEscape,
  element,
  formatSeconds,
  isoTimestamp,
  mangleTestAddress,
  serialize,
  type XmlElement,
} from './junit-xml.js';

type Stat = 'passed' | 'failure' | 'error' | 'skipped';
type Crash = Extract<FinalOutcome, { kind: 'crashed' | 'flaky' }>;

/** One `<testcase>`: pytest's `_NodeReporter`. */
interface TestCase {
  attrs: Array<[string, string]>;
  duration: number;
  properties: Array<[string, string]>;
  nodes: XmlElement[];
  /** Whether anything counted in the suite's totals was added (a pass or a child element). */
  counted: boolean;
}

/**
 * Writes the JUnit XML that pytest's own `--junitxml` writes (junit_family xunit2, junit_logging
 * "no", junit_duration_report "total"), from the event stream. The logic follows
 * `_pytest/junitxml.py` (`LogXML.pytest_runtest_logreport` and `_NodeReporter`) step by step; a
 * test that crashed its worker, which pytest cannot report, becomes an `<error type="crashed">`.
 */
export class JunitReporter implements Reporter {
  readonly name = 'junit';
  private readonly ordered: TestCase[] = [];
  /** pytest's `node_reporters`: the test cases not yet finalized, by node id. */
  private readonly open = new Map<string, TestCase>();
  /** pytest's `open_reports`: failed calls whose teardown has not been reported yet. */
  private readonly openFailures = new Map<string, PhaseReport>();
  /** The last report of each running test, for the properties of a test that crashed. */
  private readonly lastReport = new Map<string, PhaseReport>();
  private readonly stats: Record<Stat, number> = { passed: 0, failure: 0, error: 0, skipped: 0 };
  private doubleFailTests = 0;
  private startedAt: Date | null = null;
  private durationSeconds: number | null = null;

  constructor(private readonly path: string) {}

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'run_started':
        this.startedAt = new Date();
        return;
      case 'collection_finished':
        for (const error of event.errors) this.collectError(error);
        for (const skip of event.skips) this.collectSkip(skip);
        return;
      case 'test_report':
        this.lastReport.set(event.report.testId, event.report);
        this.logReport(event.report);
        return;
      case 'test_finished':
        if (event.outcome.kind === 'crashed' || event.outcome.kind === 'flaky') this.crashed(event.testId, event.outcome, event.duration);
        else if (event.outcome.kind === 'not_run') this.notRun(event.testId);
        this.lastReport.delete(event.testId);
        return;
      case 'run_finished':
        this.durationSeconds = event.durationSeconds;
        return;
      default:
        return;
    }
  }

  async close(): Promise<void> {
    const startedAt = this.startedAt ?? new Date();
    const duration = this.durationSeconds ?? (Date.now() - startedAt.getTime()) / 1000;
    const { passed, failure, error, skipped } = this.stats;
    const suite = element('testsuite', [
      ['name', 'pytest'],
      ['errors', String(error)],
      ['failures', String(failure)],
      ['skipped', String(skipped)],
      ['tests', String(passed + failure + skipped + error - this.doubleFailTests)],
      ['time', formatSeconds(duration)],
      ['timestamp', isoTimestamp(startedAt)],
      ['hostname', hostname()],
    ]);
    for (const testCase of this.ordered) suite.children.push(toXml(testCase));
    const root = element('testsuites', [['name', 'pytest tests']], null, [suite]);
    const file = resolve(this.path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `<?xml version="1.0" encoding="utf-8"?>${serialize(root)}`, 'utf8');
  }

  // -- pytest's LogXML -------------------------------------------------------------------------

  private logReport(report: PhaseReport): void {
    const id = report.testId;
    if (report.outcome === 'passed') {
      if (report.when === 'call') this.append(this.openTestCase(id), null, 'passed');
    } else if (report.outcome === 'failed') {
      if (report.when === 'teardown') this.closeOpenFailure(id);
      const testCase = this.openTestCase(id);
      if (report.when === 'call') {
        this.appendFailure(testCase, report);
        this.openFailures.set(id, report);
      } else {
        const reason = report.crashMessage ?? report.longrepr;
        const message = `failed on ${report.when === 'teardown' ? 'teardown' : 'setup'} with "${reason}"`;
        this.addSimple(testCase, 'error', binXmlEscape(message), report.longrepr);
      }
    } else {
      this.appendSkipped(this.openTestCase(id), report);
    }
    // junit_duration_report "total": every phase counts.
    this.nodeReporter(id).duration += report.duration;
    if (report.when === 'teardown') {
      this.openTestCase(id);
      this.finalize(id, report.userProperties);
      this.openFailures.delete(id);
    }
  }

  /** A failure in call and an error in teardown: the failure's test case is closed and a second one opened. */
  private closeOpenFailure(id: string): boolean {
    const failure = this.openFailures.get(id);
    if (!failure) return false;
    this.finalize(id, failure.userProperties);
    this.doubleFailTests += 1;
    return true;
  }

  private collectError(error: CollectErrorReport): void {
    this.addSimple(this.openTestCase(error.nodeid), 'error', 'collection failure', error.longrepr);
  }

  private collectSkip(skip: CollectSkipReport): void {
    this.addSimple(this.openTestCase(skip.nodeid), 'skipped', 'collection skipped', skip.longrepr);
  }

  private crashed(id: string, outcome: Crash, duration: number): void {
    // bulkhead's own addition: pytest cannot report a test that took its process down. Like an
    // error in teardown after a failed call, a crash after a closed case opens a second one.
    const last = this.lastReport.get(id);
    if (!this.closeOpenFailure(id) && last?.when === 'teardown') this.doubleFailTests += 1;
    const testCase = this.openTestCase(id);
    const { crash } = outcome;
    const message = binXmlEscape(describeCrash(id, crash));
    const body = binXmlEscape(crashBody(crash));
    if (outcome.kind === 'flaky') {
      // Counted as a pass: the attempt that crashed under load stays visible, written as Surefire
      // writes a flaky test (the passing testcase, and a <flakyError> holding the first attempt).
      testCase.nodes.push(flakyError(id, crash));
      testCase.counted = true;
      this.stats.passed += 1;
    } else {
      this.append(testCase, element('error', [['type', crashType(crash)], ['message', message]], body), 'error');
      const retry = outcome.retry;
      if (retry?.verdict === 'crashes_alone') {
        const again = retry.attempt;
        testCase.nodes.push(
          element('rerunError', [['type', crashType(again)], ['message', binXmlEscape(`alone: ${describeCrash(id, again)}`)]], binXmlEscape(crashBody(again))),
        );
      }
      if (retry !== null) testCase.properties.push(['bulkhead.isolated_retry', binXmlEscape(describeRetry(retry))]);
    }
    testCase.duration += duration;
    this.finalize(id, last?.userProperties ?? []);
    this.openFailures.delete(id);
  }

  /** pytest with -x writes nothing for a test that never ran; drop a case only a passed setup opened. */
  private notRun(id: string): void {
    const testCase = this.open.get(id);
    if (!testCase || testCase.counted) return;
    this.open.delete(id);
    this.ordered.splice(this.ordered.indexOf(testCase), 1);
  }

  /** `LogXML.node_reporter`: the open case for this id, created (and placed last) when there is none. */
  private nodeReporter(id: string): TestCase {
    let testCase = this.open.get(id);
    if (!testCase) {
      testCase = { attrs: [], duration: 0, properties: [], nodes: [], counted: false };
      this.open.set(id, testCase);
      this.ordered.push(testCase);
    }
    return testCase;
  }

  /** `LogXML._opentestcase` + `_NodeReporter.record_testreport` for xunit2: classname and name only. */
  private openTestCase(id: string): TestCase {
    const testCase = this.nodeReporter(id);
    const names = mangleTestAddress(id);
    testCase.attrs = [
      ['classname', names.slice(0, -1).join('.')],
      ['name', binXmlEscape(names[names.length - 1]!)],
    ];
    return testCase;
  }

  /** `LogXML.finalize`: the case is closed with the properties of the report that closed it. */
  private finalize(id: string, properties: Array<[string, string]>): void {
    const testCase = this.open.get(id);
    if (!testCase) return;
    this.open.delete(id);
    for (const [name, value] of properties) testCase.properties.push([name, binXmlEscape(value)]);
  }

  // -- pytest's _NodeReporter ------------------------------------------------------------------

  private append(testCase: TestCase, node: XmlElement | null, stat: Stat): void {
    this.stats[stat] += 1;
    testCase.counted = true;
    if (node) testCase.nodes.push(node);
  }

  private addSimple(testCase: TestCase, tag: 'failure' | 'error' | 'skipped', message: string, data: string): void {
    this.append(testCase, element(tag, [['message', message]], binXmlEscape(data)), tag);
  }

  private appendFailure(testCase: TestCase, report: PhaseReport): void {
    if (report.wasxfail !== null) {
      // pytest passes no text here, and `bin_xml_escape(None)` is "None".
      this.addSimple(testCase, 'skipped', 'xfail-marked test passes unexpectedly', 'None');
      return;
    }
    this.addSimple(testCase, 'failure', binXmlEscape(report.crashMessage ?? report.longrepr), report.longrepr);
  }

  private appendSkipped(testCase: TestCase, report: PhaseReport): void {
    if (report.wasxfail !== null) {
      const reason = report.wasxfail.startsWith('reason: ') ? report.wasxfail.slice(8) : report.wasxfail;
      this.append(testCase, element('skipped', [['type', 'pytest.xfail'], ['message', binXmlEscape(reason)]]), 'skipped');
      return;
    }
    const skip = report.skip ?? { path: report.location.file, line: null, reason: report.longrepr };
    const reason = skip.reason.startsWith('Skipped: ') ? skip.reason.slice(9) : skip.reason;
    const details = `${skip.path}:${skip.line ?? 'None'}: ${reason}`;
    const node = element('skipped', [['type', 'pytest.skip'], ['message', binXmlEscape(reason)]], binXmlEscape(details));
    this.append(testCase, node, 'skipped');
  }
}

/** `_NodeReporter.to_xml`. */
function toXml(testCase: TestCase): XmlElement {
  const node = element('testcase', [...testCase.attrs, ['time', formatSeconds(testCase.duration)]]);
  if (testCase.properties.length > 0) {
    const properties = testCase.properties.map(([name, value]) =>
      element('property', [['name', name], ['value', value]]),
    );
    node.children.push(element('properties', [], null, properties));
  }
  node.children.push(...testCase.nodes);
  return node;
}

/** Surefire's `<flakyError message type><stackTrace/><system-err/></flakyError>`: the attempt that did not pass. */
function flakyError(id: string, crash: CrashReport): XmlElement {
  const children: XmlElement[] = [];
  if (crash.stacks.trim()) children.push(element('stackTrace', [], binXmlEscape(crash.stacks.trim())));
  if (crash.stderrTail.trim()) children.push(element('system-err', [], binXmlEscape(crash.stderrTail.trim())));
  return element('flakyError', [['message', binXmlEscape(describeCrashFully(id, crash))], ['type', crashType(crash)]], null, children);
}

function crashBody(crash: CrashReport): string {
  const parts: string[] = [];
  const beside = describeBeside(crash);
  if (beside) parts.push(beside);
  if (crash.stacks.trim()) parts.push(`Python stacks (faulthandler):\n${crash.stacks.trim()}`);
  if (crash.stderrTail.trim()) parts.push(`worker stderr (last lines):\n${crash.stderrTail.trim()}`);
  return parts.join('\n\n');
}
