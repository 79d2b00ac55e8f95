/**
 * What a config file says once it is validated, and what the CLI passes in. Plain data, except
 * for a filter's compiled RegExp (compiled once at load time, matched once per test).
 */
import type { SettingOrigin, TestSettings } from '../model/settings.js';
import type { BudgetSpec } from '../util/bytes.js';
import type { MarkerExpression } from './marker-expression.js';

export type MpStartMethod = 'fork' | 'spawn' | 'forkserver';

/** The run-wide options, each settable by a CLI flag or a top-level config key. */
export interface RunOptions {
  /** Worker processes; 'auto' is one per CPU (the CLI turns it into a number). */
  workers: number | 'auto';
  standby: number;
  /** The run's per-test timeout; null: none (pytest-timeout's ini `timeout` may still apply). */
  timeoutSeconds: number | null;
  retries: number;
  memoryBudget: BudgetSpec;
  workerMemoryMaxBytes: number | null;
  /** A worker whose RSS passes this after a test is replaced before its next one. */
  workerRecycleMemoryBytes: number | null;
  /** multiprocessing start method set in the workers; null: Python's own default. */
  mpStartMethod: MpStartMethod | null;
  /** Cap BLAS/OpenMP threads in each worker to its CPU slots (OMP_NUM_THREADS and friends). */
  threadCaps: boolean;
  /** Give each worker pytest-xdist's identity (PYTEST_XDIST_WORKER=gwN, config.workerinput) and the run's one seed. */
  xdistIdentity: boolean;
  /** Marker names that make a test serial (never two such tests at once). */
  serialMarkers: readonly string[];
  /** Capacities of named resource tokens, e.g. { gpu: 1 }. */
  resources: Readonly<Record<string, number>>;
  /** The interpreter; null: the CLI's default ($BULKHEAD_PYTHON or python3). */
  python: string | null;
  /** Record every event of the run in `.bulkhead/runs/<id>/events.ndjson`, for `bulkhead report`. */
  record: boolean;
  /** Run folders (recording, worker logs) kept under `.bulkhead/runs`, the newest first. */
  keepRuns: number;
}

export type RunOptionKey = keyof RunOptions;
export type RunOptionOrigin = Extract<SettingOrigin, { kind: 'cli' | 'config' | 'default' }>;

export interface MergedRunOptions {
  values: RunOptions;
  origins: Record<RunOptionKey, RunOptionOrigin>;
}

/** The run options given on the command line, already parsed; a missing key was not given. */
export type CliRunOptions = Partial<RunOptions>;

/** The per-test flags of the command line (`--timeout`, `--retries`): they beat everything. */
export interface CliTestOverrides {
  timeoutSeconds?: number;
  retries?: number;
}

/** What the test keys (timeout, memory, cpus, ...) set; `serial` only comes from markers. */
export type TestKeySettings = Partial<Omit<TestSettings, 'serial'>>;

export interface ConfigOverride {
  /** 0-based position among the file's overrides (the origin shown to the user). */
  index: number;
  /** Node-id glob; null when the override selects by marker only. */
  filter: { pattern: string; regex: RegExp } | null;
  /** `-m` style expression; null when the override selects by filter only. */
  marker: { text: string; expression: MarkerExpression } | null;
  settings: TestKeySettings;
}

export interface LoadedConfig {
  /** The config file as named in messages and origins; null: the project has none. */
  file: string | null;
  /** Only the run options the file sets. */
  run: Partial<RunOptions>;
  /** `[defaults]`, with the top-level `timeout` and `retries` folded in. */
  defaults: TestKeySettings;
  overrides: ConfigOverride[];
  /** One-line notes for the user, e.g. which of two config files is used. */
  notices: string[];
}

/** The config of a project that has no config file. */
export function emptyConfig(): LoadedConfig {
  return { file: null, run: {}, defaults: {}, overrides: [], notices: [] };
}
