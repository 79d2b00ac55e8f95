import type { ResolvedSettings } from '../model/settings.js';
import type { MemoryOptions } from '../model/memory-options.js';

export type { MemoryOptions };
import type { TestInfo } from '../model/test.js';
import type { RestartPolicyOptions } from '../scheduler/restart-policy.js';

/** Everything a run needs, resolved by the CLI (and later the config files). */
export interface RunOptions {
  cwd: string;
  python: string;
  workers: number;
  /** Spare workers kept started and collected, so a crash costs no collection time. */
  standby: number;
  pytestArgs: string[];
  /** Per-run folder for worker logs and crash dumps; null keeps no logs (dumps go to a temp dir). */
  artifactsDir: string | null;
  /** Where crash files go (the artifacts dir, or a temp dir). */
  scratchDir: string;
  color: boolean;
  columns: number;
  /** Per-test timeout in seconds (a test's own timeout marker wins); null: none beyond the ini's. */
  timeoutSeconds: number | null;
  startupTimeoutSeconds: number;
  heartbeatTimeoutSeconds: number;
  heartbeatIntervalSeconds: number;
  /** Whole-run deadline: cancel gracefully and list every test that did not run. */
  runTimeoutSeconds: number | null;
  /** Between SIGTERM and SIGKILL when a worker is killed. */
  killGraceSeconds: number;
  /** After the first Ctrl-C, how long running tests may take to finish. */
  cancelGraceSeconds: number;
  /** Isolated re-runs of a test that crashed, timed out or ran out of memory (0 disables). */
  retries: number;
  /**
   * Count a flaky test (it crashed, ran out of memory or timed out only under parallel load, and
   * passed alone) as failed. By default it counts as passed, loudly reported.
   */
  failOnFlaky: boolean;
  restart: RestartPolicyOptions;
  /** Put each worker in a cgroup of its own where the platform allows (false: process groups only). */
  useCgroups: boolean;
  memory: MemoryOptions;
  /** Capacities of named resource tokens (config `resources`). */
  resources: Readonly<Record<string, number>>;
  /** multiprocessing start method set in each worker before user code is imported; null: Python's. */
  mpStartMethod: 'fork' | 'spawn' | 'forkserver' | null;
  /** Cap OMP/BLAS/... threads in each worker to its CPU share unless the user set them. */
  threadCaps: boolean;
  /**
   * Give each worker pytest-xdist's identity (PYTEST_XDIST_WORKER=gwN and friends, `config.workerinput`)
   * and the run's one random seed; false: workers look like plain pytest (and any inherited
   * PYTEST_XDIST_* is removed).
   */
  xdistIdentity: boolean;
  /** bulkhead's --junit file (absolute): workers render each testcase with pytest's junitxml for it. */
  junitPath?: string | null;
  /** `bulkhead list`: collect, report each test's effective settings (a `test_plan` event), run nothing. */
  listOnly?: boolean;
}

/** Per-test settings once the suite is collected (config, overrides, markers, CLI), or the errors. */
export type SettingsResolver = (tests: readonly TestInfo[]) => { ok: true; settings: ResolvedSettings[] } | { ok: false; errors: string[] };

