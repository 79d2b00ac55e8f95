/**
 * The zod side of the config schema: single keys checked by values.ts, strict tables (an unknown
 * key is a typo, and the message lists the allowed ones), lists of tables, and tables of named
 * counts (resources).
 */
import { z } from 'zod';
import { describeValue, wholeNumber, type Check } from './values.js';

/**
 * The message zod gives an unknown key is only "allowed: a, b, c": issues.ts names the key itself,
 * once per key, because one zod issue carries all of a table's unknown keys.
 */
export function table<Shape extends z.ZodRawShape>(shape: Shape, use: string) {
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return `allowed: ${Object.keys(shape).join(', ')}`;
      return `${describeValue(issue.input)} is not a table (use ${use})`;
    },
  });
}

export function listOf<Element extends z.ZodType>(element: Element, use: string) {
  return z.array(element, { error: (issue) => `${describeValue(issue.input)} is not a list of tables (use ${use})` });
}

/** An optional key checked by `check`: its message becomes the zod issue. */
export function field<T>(check: Check<T>) {
  return checked(check).optional();
}

/** A value checked by `check`, required (a table entry rather than an optional key). */
function checked<T>(check: Check<T>) {
  return z.unknown().transform((value, context): T => {
    const result = check(value);
    if (result.ok) return result.value;
    context.addIssue({ code: 'custom', message: result.message });
    return z.NEVER;
  });
}

/** Resource names a table may use, and where they are declared (named in the message). */
export interface DeclaredResources {
  names: ReadonlySet<string>;
  /** e.g. `[tool.bulkhead.resources]`; null when the project has no config file. */
  table: string | null;
}

/** `{ gpu = 1, db = 2 }`: resource name -> whole number >= 1, each declared when `declared` is given. */
export function namedCounts(what: string, use: string, declared: DeclaredResources | null) {
  return z
    .record(z.string(), checked(wholeNumber(what, 1)), {
      error: (issue) => `${describeValue(issue.input)} is not a table of resources (use ${use})`,
    })
    .superRefine((counts, context) => {
      if (declared === null) return;
      for (const name of Object.keys(counts)) {
        if (declared.names.has(name)) continue;
        const known =
          declared.table === null
            ? `there is no config file to declare it: add resources = { ${name} = 1 } to bulkhead.toml or [tool.bulkhead]`
            : declared.names.size > 0
              ? `declared in ${declared.table}: ${[...declared.names].join(', ')}`
              : `${declared.table} declares none; add e.g. ${name} = 1 there`;
        context.addIssue({ code: 'custom', path: [name], message: `unknown resource '${name}' (${known})` });
      }
    });
}
