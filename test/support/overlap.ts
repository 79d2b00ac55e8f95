/**
 * Which tests held their memory at the same time, from the `<nodeid> start|end <unix seconds>`
 * lines that fixture tests append to a log (test/fixtures/stampede): the stampede e2e test and
 * the benchmark count how many heavy tests ever overlapped.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface Interval {
  id: string;
  start: number;
  /** null: it started and never got to its end (killed). */
  end: number | null;
}

/** One interval per start line, in the order they started (a test that ran twice has two). */
export function readIntervals(path: string): Interval[] {
  if (!existsSync(path)) return [];
  const intervals: Interval[] = [];
  const open = new Map<string, Interval>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^(\S+) (start|end) ([\d.]+)$/.exec(line.trim());
    if (!match) continue;
    const [, id, what, at] = match as unknown as [string, string, string, string];
    if (what === 'start') {
      const interval = { id, start: Number(at), end: null };
      intervals.push(interval);
      open.set(id, interval);
    } else {
      const interval = open.get(id);
      if (interval) interval.end = Number(at);
      open.delete(id);
    }
  }
  return intervals.sort((a, b) => a.start - b.start);
}

/**
 * The most intervals open at once. An interval without an end counts as open until `until`
 * (default: forever), so a test killed mid-way is never left out of the count.
 */
export function maxOverlap(intervals: readonly Interval[], until = Infinity): number {
  // At equal times an end comes before a start: one test handing over to the next is not an overlap.
  const events = intervals.flatMap((interval) => [
    { at: interval.start, delta: 1 },
    { at: interval.end ?? until, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const event of events) {
    open += event.delta;
    most = Math.max(most, open);
  }
  return most;
}

/** How many intervals had started when the first one ended. */
export function startedBeforeFirstEnd(intervals: readonly Interval[]): number {
  const ends = intervals.flatMap((interval) => (interval.end === null ? [] : [interval.end]));
  if (ends.length === 0) return intervals.length;
  const firstEnd = Math.min(...ends);
  return intervals.filter((interval) => interval.start < firstEnd).length;
}
