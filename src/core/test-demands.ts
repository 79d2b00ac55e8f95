/**
 * What each test is expected to need while it runs, for the scheduler's admission control:
 * memory (declared > history > a guess), CPU slots, tokens, exclusivity and group.
 */
import type { PlannedTest } from '../model/event.js';
import { DEFAULT_TEST_SETTINGS, type ResolvedSettings, type TestSettings } from '../model/settings.js';
import type { TestInfo } from '../model/test.js';
import type { Capacity, TestDemand } from '../scheduler/types.js';

/** The token that tests with a serial marker share: never two of them at once. */
export const SERIAL_TOKEN = '(serial)';

export interface DemandSources {
  tests: readonly TestInfo[];
  /** Resolved settings per test (config, overrides, markers, CLI), index-aligned; null: defaults. */
  settings: readonly TestSettings[] | null;
  /** Memory peaks remembered from earlier runs, by test id. */
  peaks: ReadonlyMap<string, number>;
  /** Durations predicted from earlier runs, by test id (the scheduler orders its queue by them). */
  durations?: ReadonlyMap<string, number>;
  budgetBytes: number;
  workers: number;
}

export interface DemandPlan {
  demands: TestDemand[];
  /** Tests predicted to need more than the whole budget: each will run alone. */
  oversize: number[];
  /** How many tests run on a guess (no declaration, no history). */
  guessed: number;
}

/**
 * An unknown test is assumed to need a fair share of the budget (with room left for the workers'
 * own baselines), so that a suite nobody has measured still runs fully parallel, while the
 * siblings of each parametrized test wait for its first measurement (the scheduler's slow start).
 */
export function guessBytes(budgetBytes: number, workers: number): number {
  return Math.floor((budgetBytes / Math.max(1, workers)) * 0.8);
}

/**
 * Probing one test of an unmeasured family at a time costs parallelism on a first run (and a
 * sibling that hangs holds the others back until its timeout), so it is done only where the
 * budget is tight: less than this per worker.
 */
const PROBE_BELOW_BYTES_PER_WORKER = 4 * 1024 ** 3;

export function planDemands(sources: DemandSources): DemandPlan {
  const guess = guessBytes(sources.budgetBytes, sources.workers);
  const probe = sources.budgetBytes / Math.max(1, sources.workers) < PROBE_BELOW_BYTES_PER_WORKER;
  let guessed = 0;
  const oversize: number[] = [];
  const demands = sources.tests.map((test, index): TestDemand => {
    const settings = sources.settings?.[index] ?? null;
    const remembered = sources.peaks.get(test.id);
    const declared = settings?.memoryBytes ?? null;
    const memoryBytes = declared ?? remembered ?? guess;
    const measured = declared !== null || remembered !== undefined;
    if (!measured) guessed += 1;
    if (memoryBytes > sources.budgetBytes) oversize.push(index);
    const resources: Record<string, number> = { ...(settings?.resources ?? {}) };
    if (settings?.serial) resources[SERIAL_TOKEN] = 1;
    return {
      memoryBytes,
      cpus: settings?.cpus ?? 1,
      resources,
      exclusive: settings?.exclusive ?? false,
      group: settings?.group ?? test.xdistGroup,
      family: familyOf(test.id),
      measured: measured || !probe,
      durationSeconds: sources.durations?.get(test.id) ?? null,
    };
  });
  return { demands, oversize, guessed };
}

export function runCapacity(budgetBytes: number, workers: number, resources: Readonly<Record<string, number>>): Capacity {
  return { memoryBytes: budgetBytes, cpus: workers, resources: { ...resources, [SERIAL_TOKEN]: 1 } };
}

/** `tests/test_m.py::test_big[seed3]` -> `tests/test_m.py::test_big`. */
export function familyOf(id: string): string {
  const bracket = id.indexOf('[');
  return bracket >= 0 ? id.slice(0, bracket) : id;
}


/** What `bulkhead list` shows: each test's settings, their origins, and the memory it is expected to need. */
export function planOf(
  tests: readonly TestInfo[],
  resolved: readonly ResolvedSettings[] | null,
  demands: readonly TestDemand[],
  peaks: ReadonlyMap<string, number>,
): PlannedTest[] {
  return tests.map((test, index) => ({
    id: test.id,
    settings: resolved?.[index]?.settings ?? { ...DEFAULT_TEST_SETTINGS, timeoutSeconds: test.timeout, group: test.xdistGroup },
    origins: resolved?.[index]?.origins ?? null,
    memoryBytes: demands[index]?.memoryBytes ?? 0,
    memoryKnown: resolved?.[index]?.settings.memoryBytes != null || peaks.has(test.id),
  }));
}
