/**
 * Once the suite is collected: each test's settings (config, overrides, markers, CLI), the
 * memory it is expected to need (history), and what admission is told about it.
 */
import type { PlannedTest } from '../model/event.js';
import type { ResolvedSettings, TestSettings } from '../model/settings.js';
import type { TestInfo } from '../model/test.js';
import type { TestDemand } from '../scheduler/types.js';
import type { SettingsResolver } from './options.js';
import { planOf } from './test-demands.js';

export interface SuitePlanSources {
  resolveSettings: SettingsResolver | null;
  peaks: ((ids: readonly string[]) => ReadonlyMap<string, number>) | null;
  demandsFor(settings: readonly TestSettings[] | null, peaks: ReadonlyMap<string, number>): TestDemand[];
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
  const peaks = tests.length > 0 && sources.peaks ? sources.peaks(tests.map((test) => test.id)) : new Map<string, number>();
  const demands = sources.demandsFor(settings, peaks);
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
