/**
 * The scheduling settings of one test after config, overrides, markers and the CLI are merged,
 * and where each value came from (shown by `bulkhead list`).
 */
export interface TestSettings {
  /** Seconds; null: no timeout. */
  timeoutSeconds: number | null;
  /** Declared peak memory in bytes; null: predicted from history, or the default for unknown tests. */
  memoryBytes: number | null;
  /** CPU slots the test reserves (a test with its own thread or process pool needs more than 1). */
  cpus: number;
  /** Named tokens the test holds while it runs, e.g. { gpu: 1 }; capacities come from config. */
  resources: Record<string, number>;
  /** Tests of one group run on one worker, one after another (xdist_group semantics). */
  group: string | null;
  /** Runs with nothing else running. */
  exclusive: boolean;
  /** Carries a serial marker (serial / parallel_unsafe / no_parallel): never two at once. */
  serial: boolean;
  /** Isolated re-runs after a crash, timeout or OOM; null: the run's --retries. */
  retries: number | null;
}

export type SettingKey = keyof TestSettings;

/** Where an effective value came from, in precedence order (CLI wins). */
export type SettingOrigin =
  | { kind: 'cli'; flag: string }
  | { kind: 'override'; file: string; index: number }
  | { kind: 'marker'; marker: string }
  | { kind: 'config'; file: string }
  | { kind: 'default' };

export interface ResolvedSettings {
  settings: TestSettings;
  origins: Record<SettingKey, SettingOrigin>;
}

/** A test nothing says anything about. */
export const DEFAULT_TEST_SETTINGS: Readonly<TestSettings> = {
  timeoutSeconds: null,
  memoryBytes: null,
  cpus: 1,
  resources: {},
  group: null,
  exclusive: false,
  serial: false,
  retries: null,
};
