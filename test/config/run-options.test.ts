/**
 * Run-wide options: a CLI flag beats the config file, which beats the built-in default, and each
 * value says where it came from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RUN_OPTIONS, describeRunOptions, emptyConfig, loadConfig, mergeRunOptions, type LoadedConfig } from '../../src/config/index.js';
import { toml, withProject } from '../support/config-project.js';

function pyproject(...lines: string[]): LoadedConfig {
  const result = withProject({ 'pyproject.toml': toml('[tool.bulkhead]', ...lines) }, (dir) => loadConfig(dir));
  if (!result.ok) assert.fail(result.errors.join('\n'));
  return result.config;
}

test('nothing given: the built-in defaults', () => {
  const merged = mergeRunOptions({}, emptyConfig());
  assert.deepEqual(merged.values, DEFAULT_RUN_OPTIONS);
  assert.equal(merged.values.retries, 1);
  assert.deepEqual(merged.values.serialMarkers, ['serial', 'parallel_unsafe', 'no_parallel']);
  for (const origin of Object.values(merged.origins)) assert.deepEqual(origin, { kind: 'default' });
});

test('CLI > config file > built-in default, key by key', () => {
  const config = pyproject('workers = 4', 'retries = 3', 'memory-budget = "50%"', 'thread-caps = false', 'xdist-identity = false', 'resources = { gpu = 2 }');
  const merged = mergeRunOptions({ workers: 2, standby: 1 }, config);
  const file = { kind: 'config', file: 'pyproject.toml' };
  const cases: Array<[key: keyof typeof merged.values, value: unknown, origin: unknown]> = [
    ['workers', 2, { kind: 'cli', flag: '--workers' }],
    ['standby', 1, { kind: 'cli', flag: '--standby' }],
    ['retries', 3, file],
    ['memoryBudget', { kind: 'percent', percent: 50 }, file],
    ['threadCaps', false, file],
    ['xdistIdentity', false, file],
    ['resources', { gpu: 2 }, file],
    ['timeoutSeconds', null, { kind: 'default' }],
    ['mpStartMethod', null, { kind: 'default' }],
  ];
  for (const [key, value, origin] of cases) {
    assert.deepEqual(merged.values[key], value, key);
    assert.deepEqual(merged.origins[key], origin, key);
  }
});

test('the defaults are not shared with the merged values', () => {
  const merged = mergeRunOptions({}, emptyConfig());
  merged.values.workers = 9;
  assert.equal(DEFAULT_RUN_OPTIONS.workers, 'auto');
});

test('describeRunOptions: the options not at their defaults, named as in the config file, with their origins', () => {
  assert.deepEqual(describeRunOptions(mergeRunOptions({}, emptyConfig())), []);
  const config = pyproject(
    'workers = 4',
    'memory-budget = "50%"',
    'worker-memory-max = "2G"',
    'thread-caps = false',
    'mp-start-method = "spawn"',
    'serial-markers = ["serial", "db"]',
    'resources = { gpu = 2, db = 1 }',
  );
  assert.deepEqual(describeRunOptions(mergeRunOptions({ workers: 2, timeoutSeconds: 30 }, config)), [
    'workers 2 (--workers)',
    'timeout 30s (--timeout)',
    'memory-budget 50% of the effective limit (pyproject.toml)',
    'worker-memory-max 2.0 GiB (pyproject.toml)',
    'mp-start-method spawn (pyproject.toml)',
    'thread-caps off (pyproject.toml)',
    'serial-markers serial, db (pyproject.toml)',
    'resources gpu=2, db=1 (pyproject.toml)',
  ]);
});

test('record and keep-runs: from the config file, beaten by --no-record and --keep-runs', () => {
  const config = pyproject('record = false', 'keep-runs = 3');
  const fromFile = mergeRunOptions({}, config);
  assert.equal(fromFile.values.record, false);
  assert.equal(fromFile.values.keepRuns, 3);
  assert.deepEqual(describeRunOptions(fromFile), ['record off (pyproject.toml)', 'keep-runs 3 (pyproject.toml)']);
  const fromCli = mergeRunOptions({ keepRuns: 5 }, pyproject('keep-runs = 3'));
  assert.deepEqual(fromCli.origins.keepRuns, { kind: 'cli', flag: '--keep-runs' });
  assert.equal(fromCli.values.keepRuns, 5);
  assert.deepEqual(mergeRunOptions({ record: false }, emptyConfig()).origins.record, { kind: 'cli', flag: '--no-record' });
  assert.equal(DEFAULT_RUN_OPTIONS.record, true);
  assert.equal(DEFAULT_RUN_OPTIONS.keepRuns, 10);
});

test('keep-runs must be a whole number >= 1, record a boolean', () => {
  const result = withProject({ 'pyproject.toml': toml('[tool.bulkhead]', 'keep-runs = 0', 'record = "no"') }, (dir) => loadConfig(dir));
  assert.equal(result.ok, false);
  if (!result.ok) {
    assert.equal(result.errors.length, 2, result.errors.join('\n'));
    assert.match(result.errors.join('\n'), /keep-runs.*whole number >= 1/);
    assert.match(result.errors.join('\n'), /record/);
  }
});
