/**
 * The schema of bulkhead's config table (`bulkhead.toml` at its top level, or `[tool.bulkhead]`
 * in pyproject.toml). Keys are kebab-case, as pyproject tables usually are.
 */
import { z } from 'zod';
import { compileGlob } from './glob.js';
import { parseMarkerExpression, type MarkerExpression } from './marker-expression.js';
import { field, listOf, namedCounts, table } from './schema-parts.js';
import { testKeysShape } from './test-keys.js';
import * as values from './values.js';
import { isTable, type Check } from './values.js';

export const DEFAULT_SERIAL_MARKERS: readonly string[] = ['serial', 'parallel_unsafe', 'no_parallel'];

const nodeIdGlob: Check<{ pattern: string; regex: RegExp }> = (value) => {
  if (typeof value !== 'string' || value === '') {
    return { ok: false, message: `${values.describeValue(value)} is not a node-id glob (use e.g. "tests/test_smoke.py::*")` };
  }
  const compiled = compileGlob(value);
  if (!compiled.ok) return { ok: false, message: `${values.describeValue(value)} is not a node-id glob: ${compiled.error}` };
  return { ok: true, value: { pattern: value, regex: compiled.regex } };
};

const markerExpression: Check<{ text: string; expression: MarkerExpression }> = (value) => {
  const use = "use marker names with 'and', 'or', 'not' and parentheses, e.g. \"slow and not gpu\"";
  if (typeof value !== 'string') return { ok: false, message: `${values.describeValue(value)} is not a marker expression (${use})` };
  const parsed = parseMarkerExpression(value);
  if (!parsed.ok) return { ok: false, message: `${values.describeValue(value)} is not a marker expression: ${parsed.error} (${use})` };
  return { ok: true, value: { text: value, expression: parsed.expression } };
};

/**
 * @param prefix `tool.bulkhead.` in pyproject.toml, empty in bulkhead.toml: the hints name the
 *   tables as the user writes them.
 * @param declared the resource names of the top-level `resources` table, read before validation
 *   so that an override asking for an undeclared one is reported with its own key.
 */
export function configSchema(prefix: string, declared: ReadonlySet<string>) {
  const testKeys = testKeysShape({ names: declared, table: `[${prefix}resources]` });
  // `when` runs the check even when another key of the entry is invalid, so all is said at once.
  const override = table({ filter: field(nodeIdGlob), marker: field(markerExpression), ...testKeys }, `[[${prefix}override]]`).refine(
    (entry) => entry.filter !== undefined || entry.marker !== undefined,
    { message: 'needs a filter (a node-id glob), a marker (an expression) or both', when: (payload) => isTable(payload.value) },
  );
  return table(
    {
      workers: field(values.workers),
      standby: field(values.wholeNumber('a standby count', 0)),
      timeout: field(values.seconds),
      retries: field(values.wholeNumber('a retry count', 0)),
      'memory-budget': field(values.budget),
      'worker-memory-max': field(values.size),
      'worker-recycle-memory': field(values.size),
      'mp-start-method': field(values.oneOf('a start method', ['fork', 'spawn', 'forkserver'])),
      'thread-caps': field(values.boolean),
      'xdist-identity': field(values.boolean),
      'serial-markers': field(values.markerNames),
      resources: namedCounts('a capacity', `[${prefix}resources] with e.g. gpu = 1`, null).optional(),
      python: field(values.nonEmptyString('a Python path', '".venv/bin/python"')),
      record: field(values.boolean),
      'keep-runs': field(values.wholeNumber('a count of runs to keep', 1)),
      defaults: table(testKeys, `[${prefix}defaults]`).optional(),
      override: listOf(override, `[[${prefix}override]]`).optional(),
    },
    `[${prefix.replace(/\.$/, '')}]`,
  );
}

export type ConfigTable = z.output<ReturnType<typeof configSchema>>;
