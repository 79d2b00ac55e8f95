/**
 * A found config table, validated and turned into a LoadedConfig: run options by their
 * TypeScript names, `[defaults]` and each `[[override]]` as TestSettings fields.
 */
import { dirname, resolve } from 'node:path';
import { formatConfigProblems, problemsOf, type ConfigSource, type Problem } from './issues.js';
import { configSchema, type ConfigTable } from './schema.js';
import { toTestSettings } from './test-keys.js';
import type { LoadedConfig, RunOptions } from './types.js';
import { isTable } from './values.js';

export type BuildResult = { ok: true; config: LoadedConfig } | { ok: false; errors: string[] };

/**
 * @param path absolute path of the file: a relative `python` in it is relative to its folder.
 */
export function buildConfig(table: unknown, source: ConfigSource, path: string, notices: string[] = []): BuildResult {
  const declared = isTable(table) && isTable(table.resources) ? new Set(Object.keys(table.resources)) : new Set<string>();
  const prefix = source.prefix.map((part) => `${part}.`).join('');
  const parsed = configSchema(prefix, declared).safeParse(table);
  if (!parsed.success) return { ok: false, errors: formatConfigProblems(problemsOf(parsed.error.issues), source) };
  const data = parsed.data;
  const conflicts = doubleDefaults(data);
  if (conflicts.length > 0) return { ok: false, errors: formatConfigProblems(conflicts, source) };

  const defaults = toTestSettings(data.defaults ?? {});
  if (data.timeout !== undefined) defaults.timeoutSeconds = data.timeout;
  if (data.retries !== undefined) defaults.retries = data.retries;
  const overrides = (data.override ?? []).map(({ filter, marker, ...keys }, index) => ({
    index,
    filter: filter ?? null,
    marker: marker ?? null,
    settings: toTestSettings(keys),
  }));
  return { ok: true, config: { file: source.file, run: runOptions(data, path), defaults, overrides, notices } };
}

/**
 * The top-level `timeout` and `retries` are also every test's default, which `[defaults]` sets
 * too: two places for one value is a mistake waiting to happen, so it is refused.
 */
function doubleDefaults(data: ConfigTable): Problem[] {
  const problems: Problem[] = [];
  for (const key of ['timeout', 'retries'] as const) {
    if (data[key] !== undefined && data.defaults?.[key] !== undefined) {
      problems.push({ path: ['defaults', key], message: `also set as the top-level '${key}': keep one of the two` });
    }
  }
  return problems;
}

function runOptions(data: ConfigTable, path: string): Partial<RunOptions> {
  const run: Partial<RunOptions> = {};
  if (data.workers !== undefined) run.workers = data.workers;
  if (data.standby !== undefined) run.standby = data.standby;
  if (data.timeout !== undefined) run.timeoutSeconds = data.timeout;
  if (data.retries !== undefined) run.retries = data.retries;
  if (data['memory-budget'] !== undefined) run.memoryBudget = data['memory-budget'];
  if (data['worker-memory-max'] !== undefined) run.workerMemoryMaxBytes = data['worker-memory-max'];
  if (data['worker-recycle-memory'] !== undefined) run.workerRecycleMemoryBytes = data['worker-recycle-memory'];
  if (data['mp-start-method'] !== undefined) run.mpStartMethod = data['mp-start-method'];
  if (data['thread-caps'] !== undefined) run.threadCaps = data['thread-caps'];
  if (data['xdist-identity'] !== undefined) run.xdistIdentity = data['xdist-identity'];
  if (data['serial-markers'] !== undefined) run.serialMarkers = data['serial-markers'];
  if (data.resources !== undefined) run.resources = data.resources;
  if (data.record !== undefined) run.record = data.record;
  if (data['keep-runs'] !== undefined) run.keepRuns = data['keep-runs'];
  // A bare name ("python3.12") is looked up on PATH; a path is relative to the config file.
  if (data.python !== undefined) run.python = data.python.includes('/') ? resolve(dirname(path), data.python) : data.python;
  return run;
}
