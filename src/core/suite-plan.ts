/**
 * Once the suite is collected: each test's settings (config, overrides, markers, CLI), the
 * memory it is expected to need and the time it is expected to take (history), and what
 * admission and the queue order are told about it.
 */
import type { PlannedTest } from '../model/event.js';
import type { ResolvedSettings, TestSettings } from '../model/settings.js';
import type { TestInfo } from '../model/test.js';
import type { TestDemand } from '../scheduler/types.js';
import type { SettingsResolver } from './options.js';
import { planOf } from './test-demands.js';

/** What earlier runs say about one test (the history store's prediction, as far as planning uses it). */
export interface Remembered {
  peakBytes: number | null;
  durationSeconds: number | null;
}

export interface SuitePlanSources {
  resolveSettings: SettingsResolver | null;
  /** Earlier runs' predictions for these test ids, in one look-up; null: no history. */
  history: ((ids: readonly string[]) => ReadonlyMap<string, Remembered>) | null;
  demandsFor(settings: readonly TestSettings[] | null, peaks: ReadonlyMap<string, number>, durations: ReadonlyMap<string, number>): TestDemand[];
}

export type SuitePlan =
  | { kind: 'invalid'; errors: string[] }
  | { kind: 'plan'; settings: TestSettings[] | null; demands: TestDemand[]; planned: PlannedTest[] };

export function planSuite(tests: readonly TestInfo[], sources: SuitePlanSources): SuitePlan {
  let resolved: ResolvedSettings[] | null = null;
  if (tests.length > 0 && sources.resolveSettings) {
    const result = sources.resolveSettings(tests);
    if (!result.ok) return { kind: 'invalid', errors: result.errors };
    resolved = result.settings;
  }
  const settings = resolved?.map((entry) => entry.settings) ?? null;
  const remembered = tests.length > 0 && sources.history ? sources.history(tests.map((test) => test.id)) : new Map<string, Remembered>();
  const peaks = new Map<string, number>();
  const durations = new Map<string, number>();
  for (const [id, known] of remembered) {
    if (known.peakBytes !== null) peaks.set(id, known.peakBytes);
    if (known.durationSeconds !== null) durations.set(id, known.durationSeconds);
  }
  const demands = sources.demandsFor(settings, peaks, durations);
  return { kind: 'plan', settings, demands, planned: planOf(tests, resolved, demands, peaks) };
}

/**
 * A test's timeout: its resolved setting (CLI > override > marker > config), else the ini's
 * `timeout`; without resolved settings, its own marker, else --timeout.
 */
export function timeoutOf(
  settings: readonly TestSettings[] | null,
  test: TestInfo | undefined,
  index: number,
  runTimeout: number | null,
  frameworkTimeout: number | null,
): number | null {
  if (settings !== null) return settings[index]?.timeoutSeconds ?? frameworkTimeout;
  return test?.timeout ?? runTimeout ?? frameworkTimeout;
}

/** Tests that reserve N > 1 CPU slots get N threads in their native pools (the `run` command says so). */
export function threadsFor(settings: readonly TestSettings[] | null, indices: readonly number[], slots: number): { threads?: Record<string, number> } {
  if (settings === null) return {};
  const threads: Record<string, number> = {};
  for (const index of indices) {
    const entry = settings[index];
    if (!entry) continue;
    const cpus = entry.exclusive ? slots : Math.min(entry.cpus, slots);
    if (cpus > 1) threads[String(index)] = cpus;
  }
  return Object.keys(threads).length > 0 ? { threads } : {};
}
