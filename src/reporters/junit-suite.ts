/**
 * The suite around the testcases: `<testsuites><testsuite ...>`, with the run's counts and times
 * in the attributes this pytest writes (its envelope), and the `record_testsuite_property`
 * properties of every worker merged into one `<properties>`.
 */
import type { JunitEnvelope, JunitStats } from '../model/junit.js';
import { element, formatSeconds, isoTimestamp, raw, serialize, type LocalTime, type XmlNode } from './junit-xml.js';

/**
 * pytest 9's envelope, for a run whose workers sent none (a replay of an older recording), on the
 * host the run recorded (never this one: a replay must not depend on where it runs).
 */
export function defaultEnvelope(hostname: string): JunitEnvelope {
  return {
    declaration: '<?xml version="1.0" encoding="utf-8"?>',
    testsuites: [['name', 'pytest tests']],
    testsuite: [
      ['name', 'pytest'],
      ['errors', '0'],
      ['failures', '0'],
      ['skipped', '0'],
      ['tests', '0'],
      ['time', '0.000'],
      ['timestamp', ''],
      ['hostname', hostname],
    ],
  };
}

export interface SuiteTotals {
  stats: JunitStats;
  doubleFail: number;
  startedAt: LocalTime;
  durationSeconds: number;
}

/** The whole file: pytest's declaration and envelope, filled in, around the testcases. */
export function suiteDocument(envelope: JunitEnvelope, totals: SuiteTotals, properties: Array<[string, string]>, cases: string[]): string {
  const { passed, failure, error, skipped } = totals.stats;
  const counts: Record<string, string> = {
    errors: String(error),
    failures: String(failure),
    skipped: String(skipped),
    tests: String(passed + failure + skipped + error - totals.doubleFail),
    time: formatSeconds(totals.durationSeconds),
  };
  // Each attribute in pytest's order; the ones the run cannot know better (name, hostname) as
  // pytest wrote them. pytest 7 writes a local timestamp without its offset, later ones with it.
  const attrs = envelope.testsuite.map(([name, value]): [string, string] => {
    if (name === 'timestamp') return [name, isoTimestamp(totals.startedAt, value !== '' && !/(?:[+-]\d\d:\d\d|Z)$/.test(value))];
    return [name, counts[name] ?? value];
  });
  const children: XmlNode[] = [];
  if (properties.length > 0) {
    children.push(element('properties', [], null, properties.map(([name, value]) => element('property', [['name', name], ['value', value]]))));
  }
  children.push(...cases.map(raw));
  const suite = element('testsuite', attrs, null, children);
  return `${envelope.declaration}${serialize(element('testsuites', envelope.testsuites, null, [suite]))}`;
}

/** `record_testsuite_property` calls as one test's report carried them, on the worker that ran it. */
export interface RecordedSuiteProperties {
  worker: number;
  properties: Array<[string, string]>;
}

/**
 * One `<properties>` from every worker's `record_testsuite_property` calls. A session fixture
 * that records them runs once in each worker where pytest runs it once, so a (name, value) pair
 * is written as many times as the one worker that recorded it most often did; in the order of
 * the tests that recorded them (pass them in collection order), which is pytest's order.
 */
export function mergeSuiteProperties(recorded: readonly RecordedSuiteProperties[]): Array<[string, string]> {
  const merged: Array<[string, string]> = [];
  const written = new Map<string, number>();
  const perWorker = new Map<number, Map<string, number>>();
  for (const { worker, properties } of recorded) {
    let counts = perWorker.get(worker);
    if (!counts) {
      counts = new Map();
      perWorker.set(worker, counts);
    }
    for (const [name, value] of properties) {
      const key = JSON.stringify([name, value]);
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      if (count > (written.get(key) ?? 0)) {
        written.set(key, count);
        merged.push([name, value]);
      }
    }
  }
  return merged;
}
