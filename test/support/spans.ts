/**
 * When each test of a run ran, as the tests of `test/fixtures/scheduling` record it (see its
 * tests/conftest.py): JSON lines `{id, pid, kind, name, t}` in `<dir>/<pid>.jsonl`, with `t` read
 * from CLOCK_MONOTONIC, one clock for every process of the machine. Turned here into spans (one
 * per run of a test: a retry is a second span) so that the e2e tests can check what overlapped.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Section {
  name: string;
  start: number;
  /** null: the test never left it (its worker died inside). */
  end: number | null;
}

export interface Span {
  id: string;
  pid: number;
  start: number;
  /** null: the test never ended (its worker died). */
  end: number | null;
  sections: Section[];
  /** Facts the test noted inside the worker, by name (the last one of each name), with when (`t`). */
  notes: Map<string, Record<string, unknown>>;
}

interface RawEvent {
  id: string;
  pid: number;
  kind: 'start' | 'end' | 'section_start' | 'section_end' | 'note';
  name: string | null;
  t: number;
  [key: string]: unknown;
}

/** Every span recorded in `dir`, in start order. */
export function readSpans(dir: string): Span[] {
  const spans: Span[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.jsonl'))) {
    // One file per worker process, written in order: a test's events follow its start.
    let current: Span | null = null;
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const event = JSON.parse(line) as RawEvent;
      if (event.kind === 'start') {
        current = { id: event.id, pid: event.pid, start: event.t, end: null, sections: [], notes: new Map() };
        spans.push(current);
        continue;
      }
      if (current === null || current.id !== event.id) throw new Error(`${file}: ${event.kind} of ${event.id} outside its test`);
      if (event.kind === 'end') current.end = event.t;
      else if (event.kind === 'section_start') current.sections.push({ name: event.name ?? '', start: event.t, end: null });
      else if (event.kind === 'section_end') {
        const open = [...current.sections].reverse().find((section) => section.name === event.name && section.end === null);
        if (open) open.end = event.t;
      } else {
        const { id: _id, pid: _pid, kind: _kind, name, t: _t, ...values } = event;
        current.notes.set(name ?? '', { t: event.t, ...values });
      }
    }
  }
  return spans.sort((a, b) => a.start - b.start);
}

/** The spans of the tests whose id contains any of `parts`. */
export function spansOf(spans: readonly Span[], ...parts: string[]): Span[] {
  return spans.filter((span) => parts.some((part) => span.id.includes(part)));
}

interface Interval {
  label: string;
  start: number;
  end: number;
  weight: number;
}

/** Spans as closed intervals; an unfinished one (its worker died) is left out. */
function intervals(spans: readonly Span[], weight: (span: Span) => number = () => 1): Interval[] {
  return spans.flatMap((span) => (span.end === null ? [] : [{ label: `${span.id} (pid ${span.pid})`, start: span.start, end: span.end, weight: weight(span) }]));
}

/** Every section named `name`, as intervals labelled by its test; unfinished ones are left out. */
function sectionIntervals(spans: readonly Span[], name: string): Interval[] {
  return spans.flatMap((span) =>
    span.sections
      .filter((section) => section.name === name && section.end !== null)
      .map((section) => ({ label: `${span.id} (pid ${span.pid})`, start: section.start, end: section.end!, weight: 1 })),
  );
}

/** Pairs that overlapped, described for an assertion message ("a [1.20, 1.50] overlaps b [...]"). */
export function overlappingPairs(a: readonly Span[], b?: readonly Span[]): string[] {
  const first = intervals(a);
  return pairs(first, b === undefined ? first : intervals(b));
}

/** As overlappingPairs, for the sections named `name`. */
export function overlappingSections(spans: readonly Span[], name: string): string[] {
  const sections = sectionIntervals(spans, name);
  return pairs(sections, sections);
}

function pairs(a: readonly Interval[], b: readonly Interval[]): string[] {
  const found: string[] = [];
  const origin = Math.min(...a.map((x) => x.start), ...b.map((x) => x.start));
  const show = (x: Interval): string => `${x.label} [${(x.start - origin).toFixed(3)}, ${(x.end - origin).toFixed(3)}]`;
  for (const x of a) {
    for (const y of b) {
      if (x === y || (a === b && x.start > y.start)) continue;
      if (x.label === y.label && x.start === y.start) continue;
      if (x.start < y.end && y.start < x.end) found.push(`${show(x)} overlaps ${show(y)}`);
    }
  }
  return found;
}

/**
 * The most weight running at one moment (each span weighs 1 unless `weight` says otherwise).
 * At equal times an end counts before a start: a test that starts as another ends did not overlap.
 */
export function peakConcurrency(spans: readonly Span[], weight?: (span: Span) => number): number {
  const edges = intervals(spans, weight).flatMap((x) => [
    { t: x.start, delta: x.weight },
    { t: x.end, delta: -x.weight },
  ]);
  edges.sort((a, b) => a.t - b.t || a.delta - b.delta);
  let now = 0;
  let peak = 0;
  for (const edge of edges) {
    now += edge.delta;
    peak = Math.max(peak, now);
  }
  return peak;
}

/** The spans as lines, relative to the first start, for assertion messages. */
export function describeSpans(spans: readonly Span[]): string {
  if (spans.length === 0) return '(no spans recorded)';
  const origin = Math.min(...spans.map((span) => span.start));
  const at = (t: number | null): string => (t === null ? '  open' : (t - origin).toFixed(3).padStart(6));
  return spans
    .map((span) => {
      const sections = span.sections.map((section) => ` ${section.name}[${at(section.start).trim()}, ${at(section.end).trim()}]`).join('');
      return `${at(span.start)} ${at(span.end)} pid ${span.pid} ${span.id}${sections}`;
    })
    .join('\n');
}
