/**
 * The run-wide options that are not at their defaults, one line each with where the value came
 * from, as `bulkhead list` shows them above the tests: `resources model=1, kloros=1 (bulkhead.toml)`.
 * Named as the config file names them, so a line can be looked up in the file.
 */
import { assertNever } from '../model/assert-never.js';
import { formatBytes, type BudgetSpec } from '../util/bytes.js';
import { DEFAULT_RUN_OPTIONS } from './run-options.js';
import type { MergedRunOptions, RunOptionKey, RunOptionOrigin, RunOptions } from './types.js';

const CONFIG_KEYS: Readonly<Record<RunOptionKey, string>> = {
  workers: 'workers',
  standby: 'standby',
  timeoutSeconds: 'timeout',
  retries: 'retries',
  memoryBudget: 'memory-budget',
  workerMemoryMaxBytes: 'worker-memory-max',
  workerRecycleMemoryBytes: 'worker-recycle-memory',
  mpStartMethod: 'mp-start-method',
  threadCaps: 'thread-caps',
  xdistIdentity: 'xdist-identity',
  serialMarkers: 'serial-markers',
  resources: 'resources',
  python: 'python',
  record: 'record',
  keepRuns: 'keep-runs',
};

export function describeRunOptions(merged: MergedRunOptions): string[] {
  const lines: string[] = [];
  for (const key of Object.keys(DEFAULT_RUN_OPTIONS) as RunOptionKey[]) {
    const origin = merged.origins[key];
    if (origin.kind === 'default') continue;
    lines.push(`${CONFIG_KEYS[key]} ${formatValue(key, merged.values)} (${describeOrigin(origin)})`);
  }
  return lines;
}

function formatValue(key: RunOptionKey, values: RunOptions): string {
  switch (key) {
    case 'timeoutSeconds':
      return values.timeoutSeconds === null ? 'none' : `${values.timeoutSeconds}s`;
    case 'memoryBudget':
      return formatBudget(values.memoryBudget);
    case 'workerMemoryMaxBytes':
    case 'workerRecycleMemoryBytes': {
      const bytes = values[key];
      return bytes === null ? 'none' : formatBytes(bytes);
    }
    case 'threadCaps':
      return values.threadCaps ? 'on' : 'off';
    case 'xdistIdentity':
      return values.xdistIdentity ? 'on' : 'off';
    case 'record':
      return values.record ? 'on' : 'off';
    case 'serialMarkers':
      return values.serialMarkers.join(', ');
    case 'resources':
      return Object.entries(values.resources).map(([name, capacity]) => `${name}=${capacity}`).join(', ');
    case 'workers':
    case 'standby':
    case 'retries':
    case 'keepRuns':
    case 'mpStartMethod':
    case 'python':
      return String(values[key] ?? 'default');
    default:
      return assertNever(key);
  }
}

function formatBudget(budget: BudgetSpec): string {
  switch (budget.kind) {
    case 'default':
      return 'default';
    case 'bytes':
      return formatBytes(budget.bytes);
    case 'percent':
      return `${budget.percent}% of the effective limit`;
    default:
      return assertNever(budget);
  }
}

function describeOrigin(origin: RunOptionOrigin): string {
  switch (origin.kind) {
    case 'cli':
      return origin.flag;
    case 'config':
      return origin.file;
    case 'default':
      return 'default';
    default:
      return assertNever(origin);
  }
}
