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
