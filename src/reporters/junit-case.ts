/**
 * One test's testcases once its final outcome is known. Where the worker's pytest reported the
 * test to its end, they are exactly what pytest's junitxml rendered. Where the worker died, the
 * supervisor finishes the testcase pytest had open (or names a new one as pytest would) and adds
 * bulkhead's own elements: `<error type="crashed|timeout|oom|unresponsive">` with `<rerunError>`
 * and the `bulkhead.isolated_retry` property, or `<flakyError>` on a flaky pass.
 */
import type { JunitFragment, JunitOpenCase, JunitSession, JunitStats } from '../model/junit.js';
import { crashType, describeBeside, describeCrash, describeCrashFully, describeRetry, type CrashReport, type FinalOutcome } from '../model/outcome.js';
import type { PhaseReport } from '../model/report.js';
import { binXmlEscape, element, formatSeconds, mangleTestAddress, raw, serialize, type XmlElement, type XmlNode } from './junit-xml.js';

export type Crash = Extract<FinalOutcome, { kind: 'crashed' | 'flaky' }>;

/** A test's share of the suite: its rendered testcases and what they add to pytest's counts. */
export interface TestCases {
  cases: string[];
  stats: JunitStats;
  doubleFail: number;
  suiteProperties: Array<[string, string]>;
}

export const NO_STATS: JunitStats = { passed: 0, failure: 0, error: 0, skipped: 0 };

const EMPTY: JunitFragment = { cases: [], open: null, stats: NO_STATS, doubleFail: 0, suiteProperties: [] };

/** Where the test is, for naming a testcase pytest never opened: its id, file and 0-based line. */
export interface TestPlace {
  id: string;
  file: string | null;
  line: number | null;
}

/**
 * What pytest would write for the test at the end of its session: its finalized testcases, and
 * one it still had open (an interrupted test) as it stands, without properties.
 */
export function reportedCases(fragment: JunitFragment | null | undefined): TestCases {
  const f = fragment ?? EMPTY;
  const cases = [...f.cases];
  if (f.open) cases.push(serialize(openCaseElement(f.open, [])));
  return { cases, stats: { ...f.stats }, doubleFail: f.doubleFail, suiteProperties: f.suiteProperties };
}

/** pytest with -x writes nothing for a test that never ran: a case only a passed setup opened is dropped. */
export function notRunCases(fragment: JunitFragment | null | undefined): TestCases {
  const f = fragment ?? EMPTY;
  if (f.cases.length === 0 && (f.open === null || f.open.children === '')) {
    return { cases: [], stats: { ...NO_STATS }, doubleFail: 0, suiteProperties: f.suiteProperties };
  }
  return reportedCases(f);
}

/**
 * A test whose worker died. pytest cannot report it; it is written as pytest writes an error in
 * teardown: after a failed call the failure's testcase is closed and a second one carries the
 * crash (counted once), otherwise the crash joins the testcase pytest had open.
 */
export function crashedCases(
  place: TestPlace,
  outcome: Crash,
  fragment: JunitFragment | null | undefined,
  last: PhaseReport | null,
  session: JunitSession | null,
): TestCases {
  const f = fragment ?? EMPTY;
  const cases = [...f.cases];
  const stats = { ...f.stats };
  let doubleFail = f.doubleFail;
  // The properties the test recorded before it died: pytest adds them when it finalizes a case.
  const recorded = (last?.userProperties ?? []).map(([name, value]): [string, string] => [name, binXmlEscape(value)]);
  let open = f.open;
  if (open !== null && last?.when === 'call' && last.outcome === 'failed') {
    cases.push(serialize(openCaseElement(open, recorded)));
    doubleFail += 1;
    open = null;
  } else if (open === null && last?.when === 'teardown') {
    // Every phase was reported and the case closed: the crash after it opens a second one.
    doubleFail += 1;
  }
  const testcase = open ?? { attrs: testcaseNames(place, session), time: 0, children: '' };
  const { crash } = outcome;
  const message = binXmlEscape(describeCrash(place.id, crash));
  const body = binXmlEscape(crashBody(crash));
  const extra: XmlElement[] = [];
  const properties: Array<[string, string]> = [];
  if (outcome.kind === 'flaky') {
    // Counted as a pass: the attempt that crashed under load stays visible, written as Surefire
    // writes a flaky test (the passing testcase, and a <flakyError> holding the first attempt).
    extra.push(flakyError(place.id, crash));
    stats.passed += 1;
  } else {
    extra.push(element('error', [['type', crashType(crash)], ['message', message]], body));
    stats.error += 1;
    const retry = outcome.retry;
    if (retry?.verdict === 'crashes_alone') {
      const again = retry.attempt;
      const text = binXmlEscape(`alone: ${describeCrash(place.id, again)}`);
      extra.push(element('rerunError', [['type', crashType(again)], ['message', text]], binXmlEscape(crashBody(again))));
    }
    if (retry !== null) properties.push(['bulkhead.isolated_retry', binXmlEscape(describeRetry(retry))]);
  }
  properties.push(...recorded);
  cases.push(serialize(openCaseElement(testcase, properties, extra)));
  return { cases, stats, doubleFail, suiteProperties: f.suiteProperties };
}

/** `_NodeReporter.to_xml` of a case pytest had not finalized, with the properties finalizing adds. */
export function openCaseElement(open: JunitOpenCase, properties: Array<[string, string]>, extra: XmlNode[] = []): XmlElement {
  const children: XmlNode[] = [];
  if (properties.length > 0) {
    children.push(element('properties', [], null, properties.map(([name, value]) => element('property', [['name', name], ['value', value]]))));
  }
  children.push(raw(open.children), ...extra);
  // pytest's `ET.Element("testcase", attrs, time=...)`: a `time` attribute already there keeps its place.
  const time = formatSeconds(open.time);
  const attrs: Array<[string, string]> = open.attrs.map(([name, value]) => [name, name === 'time' ? time : value]);
  if (!attrs.some(([name]) => name === 'time')) attrs.push(['time', time]);
  return element('testcase', attrs, null, children);
}

/**
 * The names pytest's `_NodeReporter.record_testreport` gives a testcase, for a test that died
 * before any report opened one: classname (with `--junit-prefix`), name, and in xunit1 file and line.
 */
export function testcaseNames(place: TestPlace, session: JunitSession | null): Array<[string, string]> {
  const names = mangleTestAddress(place.id);
  const classnames = names.slice(0, -1);
  if (session?.prefix) classnames.unshift(session.prefix);
  const attrs: Array<[string, string]> = [
    ['classname', classnames.join('.')],
    ['name', binXmlEscape(names[names.length - 1]!)],
  ];
  if (session?.family === 'xunit1' && place.file !== null) {
    attrs.push(['file', place.file]);
    if (place.line !== null) attrs.push(['line', String(place.line)]);
  }
  return attrs;
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
