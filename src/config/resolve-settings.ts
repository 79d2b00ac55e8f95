/**
 * A test's scheduling settings, merged from five layers, each key taking the value of the
 * highest layer that sets it and remembering which one it was:
 *
 *   1. built-in defaults
 *   2. the config's `[defaults]` (and its top-level timeout / retries)
 *   3. the test's markers: pytest-timeout's `timeout`, `xdist_group`, a serial marker, then
 *      `@pytest.mark.bulkhead(...)`, which beats the other markers for the key it shares
 *   4. the config's `[[override]]` entries that select the test, in file order (later wins)
 *   5. the command line (`--timeout`, `--retries`)
 *
 * Overrides beat markers so that a suite's config can correct a test without editing it. Pure.
 */
import { DEFAULT_TEST_SETTINGS, type ResolvedSettings, type SettingKey, type SettingOrigin, type TestSettings } from '../model/settings.js';
import type { TestInfo } from '../model/test.js';
import { matchesMarkers } from './marker-expression.js';
import { markerSettings } from './marker-settings.js';
import { DEFAULT_SERIAL_MARKERS } from './schema.js';
import type { CliTestOverrides, ConfigOverride, LoadedConfig } from './types.js';

export const BUILT_IN_TEST_SETTINGS: Readonly<TestSettings> = DEFAULT_TEST_SETTINGS;

const KEYS = Object.keys(BUILT_IN_TEST_SETTINGS) as SettingKey[];

/** Thrown by resolveSettings for a test whose `@pytest.mark.bulkhead(...)` is invalid. */
export class TestSettingsError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join('\n'));
    this.name = 'TestSettingsError';
  }
}

/** @throws TestSettingsError when the test's `@pytest.mark.bulkhead(...)` kwargs are invalid. */
export function resolveSettings(test: TestInfo, config: LoadedConfig, cli: CliTestOverrides): ResolvedSettings {
  const fromMarker = markerSettings(test, config);
  if (!fromMarker.ok) throw new TestSettingsError(fromMarker.errors);
  const settings: TestSettings = { ...BUILT_IN_TEST_SETTINGS, resources: {} };
  const origins = Object.fromEntries(KEYS.map((key) => [key, { kind: 'default' }])) as Record<SettingKey, SettingOrigin>;
  const layer = (values: Partial<TestSettings>, origin: SettingOrigin): void => {
    for (const key of KEYS) {
      const value = values[key];
      if (value === undefined) continue;
      assign(settings, key, value);
      origins[key] = origin;
    }
  };

  // A config without a file (the project has none) sets nothing: the checks below only name it.
  if (config.file !== null) layer(config.defaults, { kind: 'config', file: config.file });
  if (test.timeout !== null) layer({ timeoutSeconds: test.timeout }, { kind: 'marker', marker: 'timeout' });
  if (test.xdistGroup !== null) layer({ group: test.xdistGroup }, { kind: 'marker', marker: 'xdist_group' });
  const serial = (config.run.serialMarkers ?? DEFAULT_SERIAL_MARKERS).find((name) => test.markers.includes(name));
  if (serial !== undefined) layer({ serial: true }, { kind: 'marker', marker: serial });
  layer(fromMarker.settings, { kind: 'marker', marker: 'bulkhead' });
  const markers = new Set(test.markers);
  for (const override of config.overrides) {
    if (config.file !== null && selects(override, test.id, markers)) {
      layer(override.settings, { kind: 'override', file: config.file, index: override.index });
    }
  }
  if (cli.timeoutSeconds !== undefined) layer({ timeoutSeconds: cli.timeoutSeconds }, { kind: 'cli', flag: '--timeout' });
  if (cli.retries !== undefined) layer({ retries: cli.retries }, { kind: 'cli', flag: '--retries' });
  return { settings, origins };
}

export type ResolveAllResult = { ok: true; settings: Map<string, ResolvedSettings> } | { ok: false; errors: string[] };

/** Every test's settings, or every invalid `@pytest.mark.bulkhead(...)` in the suite at once. */
export function resolveAllSettings(tests: readonly TestInfo[], config: LoadedConfig, cli: CliTestOverrides): ResolveAllResult {
  const settings = new Map<string, ResolvedSettings>();
  const errors: string[] = [];
  // Most tests of a large suite have nothing of their own (no marker, no override selects them):
  // they all get one frozen copy of the suite's settings, not 50,000 equal objects.
  let shared: ResolvedSettings | null = null;
  const serialMarkers = config.run.serialMarkers ?? DEFAULT_SERIAL_MARKERS;
  for (const test of tests) {
    try {
      if (hasNothingOwn(test, config, serialMarkers)) {
        shared ??= frozen(resolveSettings(test, config, cli));
        settings.set(test.id, shared);
        continue;
      }
      settings.set(test.id, resolveSettings(test, config, cli));
    } catch (error) {
      if (!(error instanceof TestSettingsError)) throw error;
      errors.push(...error.errors);
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, settings };
}

/** Whether nothing but the config's defaults and the command line applies to the test. */
function hasNothingOwn(test: TestInfo, config: LoadedConfig, serialMarkers: readonly string[]): boolean {
  if (test.timeout !== null || test.xdistGroup !== null || test.bulkheadMarker !== null) return false;
  if (serialMarkers.some((name) => test.markers.includes(name))) return false;
  if (config.file === null || config.overrides.length === 0) return true;
  const markers = new Set(test.markers);
  return !config.overrides.some((override) => selects(override, test.id, markers));
}

function frozen(resolved: ResolvedSettings): ResolvedSettings {
  Object.freeze(resolved.settings.resources);
  Object.freeze(resolved.settings);
  Object.freeze(resolved.origins);
  return Object.freeze(resolved);
}

/** An override with both a filter and a marker selects the tests that match both. */
export function selects(override: ConfigOverride, id: string, markers: ReadonlySet<string>): boolean {
  if (override.filter !== null && !override.filter.regex.test(id)) return false;
  if (override.marker !== null && !matchesMarkers(override.marker.expression, markers)) return false;
  return true;
}

function assign<K extends SettingKey>(settings: TestSettings, key: K, value: TestSettings[K]): void {
  // A layer's resources table is copied so that no two tests share (and could mutate) one object.
  settings[key] = (key === 'resources' ? { ...(value as TestSettings['resources']) } : value) as TestSettings[K];
}
