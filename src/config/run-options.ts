/**
 * The run-wide options: a CLI flag beats the config file, which beats the built-in default, and
 * the origin of each value is kept so the run can say where a surprising value came from.
 */
import { DEFAULT_SERIAL_MARKERS } from './schema.js';
import type { CliRunOptions, LoadedConfig, MergedRunOptions, RunOptionKey, RunOptionOrigin, RunOptions } from './types.js';

export const DEFAULT_RUN_OPTIONS: Readonly<RunOptions> = {
  workers: 'auto',
  standby: 0,
  timeoutSeconds: null,
  retries: 1,
  memoryBudget: { kind: 'default' },
  workerMemoryMaxBytes: null,
  workerRecycleMemoryBytes: null,
  mpStartMethod: null,
  threadCaps: true,
  xdistIdentity: true,
  serialMarkers: DEFAULT_SERIAL_MARKERS,
  resources: {},
  python: null,
  record: true,
  // Run folders kept (recording and worker logs). A recording takes ~2 KB per test (~2.5 KB when
  // workers render JUnit; bench/results/record-overhead-*.json): ten runs of a 3,000-test suite are
  // ~60 MB, of a 50,000-test suite ~1 GB, which such a suite's owners may lower with keep-runs.
  // Ten looks back over a day's runs (the failure two runs ago, the runs around a flaky crash)
  // without `.bulkhead/` growing unbounded; it is also how many runs' worker logs were kept before.
  keepRuns: 10,
};

/** The flag that sets each option, named in its origin (some have no flag yet, and are named as they will be). */
export const RUN_OPTION_FLAGS: Readonly<Record<RunOptionKey, string>> = {
  workers: '--workers',
  standby: '--standby',
  timeoutSeconds: '--timeout',
  retries: '--retries',
  memoryBudget: '--memory-budget',
  workerMemoryMaxBytes: '--worker-memory-max',
  workerRecycleMemoryBytes: '--worker-recycle-memory',
  mpStartMethod: '--mp-start-method',
  threadCaps: '--thread-caps',
  xdistIdentity: '--xdist-identity',
  serialMarkers: '--serial-markers',
  resources: '--resources',
  python: '--python',
  record: '--no-record',
  keepRuns: '--keep-runs',
};

const KEYS = Object.keys(DEFAULT_RUN_OPTIONS) as RunOptionKey[];

/** @param cli only the options given on the command line: a commander default is not one. */
export function mergeRunOptions(cli: CliRunOptions, config: LoadedConfig): MergedRunOptions {
  const values: RunOptions = { ...DEFAULT_RUN_OPTIONS };
  const origins = Object.fromEntries(KEYS.map((key) => [key, { kind: 'default' }])) as Record<RunOptionKey, RunOptionOrigin>;
  for (const key of KEYS) {
    if (cli[key] !== undefined) {
      assign(values, key, cli[key]);
      origins[key] = { kind: 'cli', flag: RUN_OPTION_FLAGS[key] };
    } else if (config.run[key] !== undefined && config.file !== null) {
      assign(values, key, config.run[key]);
      origins[key] = { kind: 'config', file: config.file };
    }
  }
  return { values, origins };
}

function assign<K extends RunOptionKey>(values: RunOptions, key: K, value: RunOptions[K] | undefined): void {
  if (value !== undefined) values[key] = value;
}
