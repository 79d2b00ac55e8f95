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
