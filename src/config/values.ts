/**
 * One config value each: what is allowed, and the message when it is not. The same checks read
 * a TOML file and the JSON kwargs of `@pytest.mark.bulkhead(...)`, so both say the same thing:
 * `"12 gigs" is not a size (use e.g. "512M", "12G")`.
 */
import { parseBudget, parseBytes, type BudgetSpec } from '../util/bytes.js';
import { parseDuration } from '../util/duration.js';

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };
export type Check<T> = (value: unknown) => Checked<T>;

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const not = (value: unknown, what: string, allowed: string): Checked<never> => ({
  ok: false,
  message: `${describeValue(value)} is not ${what} (${allowed})`,
});

/** A value as the user wrote it, short: "12 gigs", 0, true, a table, ["a", "b"]. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'object' && !Array.isArray(value)) return value instanceof Date ? String(value) : 'a table';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export const seconds: Check<number> = (value) => {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return ok(value);
  const parsed = typeof value === 'string' ? parseDuration(value) : null;
  return parsed !== null ? ok(parsed) : not(value, 'a duration', 'use seconds > 0, e.g. 30, 2.5, "90s", "5m"');
};

/** A size in bytes: a string with a binary unit, or a whole number of bytes. */
export const size: Check<number> = (value) => {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return ok(value);
  const parsed = typeof value === 'string' ? parseBytes(value) : null;
  return parsed !== null ? ok(parsed) : not(value, 'a size', 'use e.g. "512M", "12G"');
};

export const budget: Check<BudgetSpec> = (value) => {
  const parsed = typeof value === 'string' ? parseBudget(value) : null;
  if (parsed !== null) return ok(parsed);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return ok({ kind: 'bytes', bytes: value });
  return not(value, 'a memory budget', 'use a size such as "4G" or a share of the limit such as "80%"');
};

export function wholeNumber(what: string, min: number): Check<number> {
  return (value) =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= min
      ? ok(value)
      : not(value, what, `use a whole number >= ${min}`);
}

export const workers: Check<number | 'auto'> = (value) =>
  value === 'auto' || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1)
    ? ok(value)
    : not(value, 'a worker count', 'use a whole number >= 1 or "auto"');

export const boolean: Check<boolean> = (value) =>
  typeof value === 'boolean' ? ok(value) : not(value, 'a boolean', 'use true or false');

export function nonEmptyString(what: string, example: string): Check<string> {
  return (value) =>
    typeof value === 'string' && value.trim() !== '' ? ok(value) : not(value, what, `use a non-empty string, e.g. ${example}`);
}

export function oneOf<const T extends string>(what: string, choices: readonly T[]): Check<T> {
  const listed = choices.map((c) => `"${c}"`);
  const allowed = `use ${listed.slice(0, -1).join(', ')} or ${listed[listed.length - 1]}`;
  return (value) => (choices.includes(value as T) ? ok(value as T) : not(value, what, allowed));
}

export const markerNames: Check<string[]> = (value) =>
  Array.isArray(value) && value.every((name) => typeof name === 'string' && /^\w+$/.test(name))
    ? ok(value as string[])
    : not(value, 'a list of marker names', 'use e.g. ["serial", "no_parallel"]');

/** A TOML table or JSON object (a TOML date is an object too, but not a table). */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
