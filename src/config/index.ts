export { loadConfig, type LoadConfigResult } from './load-config.js';
export { mergeRunOptions, DEFAULT_RUN_OPTIONS, RUN_OPTION_FLAGS } from './run-options.js';
export { describeRunOptions } from './describe-run-options.js';
export {
  resolveSettings,
  resolveAllSettings,
  selects,
  BUILT_IN_TEST_SETTINGS,
  TestSettingsError,
  type ResolveAllResult,
} from './resolve-settings.js';
export { markerSettings, type MarkerSettingsResult } from './marker-settings.js';
export { parseMarkerExpression, matchesMarkers, type MarkerExpression, type MarkerExpressionResult } from './marker-expression.js';
export { compileGlob, type GlobResult } from './glob.js';
export { DEFAULT_SERIAL_MARKERS } from './schema.js';
export { TEST_KEYS } from './test-keys.js';
export {
  emptyConfig,
  type CliRunOptions,
  type CliTestOverrides,
  type ConfigOverride,
  type LoadedConfig,
  type MergedRunOptions,
  type MpStartMethod,
  type RunOptionKey,
  type RunOptionOrigin,
  type RunOptions,
  type TestKeySettings,
} from './types.js';
