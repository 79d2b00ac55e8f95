/**
 * The messages every test sends (`started`, `finished`), the heartbeat, and the collection (a
 * test's worth of fields per test, from every worker), checked by hand: zod took about half of
 * the supervisor's time per test, and a quarter of a second per worker for 10,000 tests. This path accepts a message only when every
 * field is exactly as protocol.ts says, and then returns what zod would (unknown keys dropped,
 * defaults filled in); anything else, however slightly off, returns null and zod decides, with
 * its own error. test/adapters/pytest/fast-decode.test.ts holds it to zod on the shared samples.
 */
import type { AnyWireMessage } from './protocol.js';

type Hot = Extract<AnyWireMessage, { type: 'started' | 'finished' | 'heartbeat' | 'collected' }>;
type Finished = Extract<AnyWireMessage, { type: 'finished' }>;
type Collected = Extract<AnyWireMessage, { type: 'collected' }>;
type CollectedTest = Collected['tests'][number];
type PlainWire = Finished['plain'][number];

export function fastDecode(raw: unknown): Hot | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const message = raw as Record<string, unknown>;
  switch (message['type']) {
    case 'heartbeat':
      return { type: 'heartbeat' };
    case 'started':
      return typeof message['id'] === 'string' ? { type: 'started', id: message['id'] } : null;
    case 'finished':
      return finished(message);
    case 'collected':
      return collected(message);
    default:
      return null;
  }
}

function finished(message: Record<string, unknown>): Finished | null {
  const { id, leaked, memory, locks, plain } = message;
  if (typeof id !== 'string') return null;
  // A test that left processes running or took locks is rare: zod checks those.
  if (!Array.isArray(leaked) || leaked.length > 0) return null;
  if (locks !== undefined && (!Array.isArray(locks) || locks.length > 0)) return null;
  const measured = memory === null ? null : testMemory(memory);
  if (measured === undefined) return null;
  const phases = plain === undefined ? [] : plainPhases(plain);
  if (phases === null) return null;
  return { type: 'finished', id, leaked: [], memory: measured, locks: [], plain: phases };
}

function collected(message: Record<string, unknown>): Collected | null {
  const { tests, deselected, errors, interrupted, exitstatus } = message;
  if (!Array.isArray(tests) || !isInteger(deselected) || !isInteger(errors)) return null;
  if (interrupted !== null && typeof interrupted !== 'string') return null;
  if (exitstatus !== null && !isInteger(exitstatus)) return null;
  const checked: CollectedTest[] = [];
  for (const test of tests as unknown[]) {
    const one = collectedTest(test);
    if (one === null) return null;
    checked.push(one);
  }
  return { type: 'collected', tests: checked, deselected, errors, interrupted, exitstatus };
}

const TEST_KEYS = new Set(['id', 'file', 'line', 'markers', 'scope', 'timeout', 'bulkheadMarker', 'xdistGroup']);

/**
 * One collected test, checked and completed in place: the parsed object itself is kept (with
 * zod's defaults filled in), not copied, since a collection of 50,000 tests comes from every
 * worker at once. One with a key the schema does not know is left to zod, which drops it.
 */
function collectedTest(value: unknown): CollectedTest | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  for (const key in record) if (!TEST_KEYS.has(key)) return null;
  const { id, file, line, markers, scope, timeout, bulkheadMarker, xdistGroup } = record;
  if (typeof id !== 'string' || typeof file !== 'string' || typeof scope !== 'string') return null;
  if (line !== null && !isInteger(line)) return null;
  if (timeout !== null && !isNumber(timeout)) return null;
  // A test's own @pytest.mark.bulkhead(...) is rare, and its shape is zod's to check.
  if (bulkheadMarker !== undefined && bulkheadMarker !== null) return null;
  if (xdistGroup !== undefined && xdistGroup !== null && typeof xdistGroup !== 'string') return null;
  if (!Array.isArray(markers) || !markers.every((marker) => typeof marker === 'string')) return null;
  record['bulkheadMarker'] = null;
  record['xdistGroup'] = xdistGroup ?? null;
  return record as unknown as CollectedTest;
}

/** As zod's `z.number().int()`: a safe integer. */
function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function testMemory(value: unknown): Finished['memory'] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { baselineBytes, peakBytes, residentBytes } = value as Record<string, unknown>;
  if (!isNumber(baselineBytes) || !isNumber(peakBytes)) return undefined;
  if (residentBytes !== undefined && residentBytes !== null && !isNumber(residentBytes)) return undefined;
  return { baselineBytes, peakBytes, residentBytes: residentBytes ?? null };
}

function plainPhases(value: unknown): PlainWire[] | null {
  if (!Array.isArray(value)) return null;
  const phases: PlainWire[] = [];
  for (const item of value as unknown[]) {
    if (!Array.isArray(item) || item.length !== 2) return null;
    const [when, duration] = item as [unknown, unknown];
    if ((when !== 'setup' && when !== 'call' && when !== 'teardown') || !isNumber(duration)) return null;
    phases.push([when, duration]);
  }
  return phases;
}

/** As zod's `z.number()`: a finite number (JSON's 1e400 parses to Infinity). */
function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
