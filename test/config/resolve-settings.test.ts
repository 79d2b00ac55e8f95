/**
 * A test's settings and their origins: CLI > override > marker > config defaults > built-in,
 * for every key; overrides by glob, by marker expression and both; later overrides win.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyConfig, loadConfig, resolveAllSettings, resolveSettings, type CliTestOverrides, type LoadedConfig } from '../../src/config/index.js';
import type { SettingKey, SettingOrigin, TestSettings } from '../../src/model/settings.js';
import { testInfo, toml, withProject } from '../support/config-project.js';

const GiB = 1024 ** 3;

function bulkheadToml(text: string): LoadedConfig {
  const result = withProject({ 'bulkhead.toml': text }, (dir) => loadConfig(dir));
  if (!result.ok) assert.fail(result.errors.join('\n'));
  return result.config;
}

const CONFIG = { kind: 'config', file: 'bulkhead.toml' } as const;
const override = (index: number): SettingOrigin => ({ kind: 'override', file: 'bulkhead.toml', index });
const marker = (name: string): SettingOrigin => ({ kind: 'marker', marker: name });

test('no config, no markers, no flags: the built-in defaults, all of origin default', () => {
  const resolved = resolveSettings(testInfo('t.py::a'), emptyConfig(), {});
  assert.deepEqual(resolved.settings, {
    timeoutSeconds: null,
    memoryBytes: null,
    cpus: 1,
    resources: {},
    group: null,
    exclusive: false,
    serial: false,
    retries: null,
  });
  for (const origin of Object.values(resolved.origins)) assert.deepEqual(origin, { kind: 'default' });
});

interface KeyCase {
  key: SettingKey;
  tomlKey: string;
  /** The TOML values of [defaults] and of the override, and the marker kwarg's value. */
  defaults: string;
  override: string;
  marker: unknown;
  /** What each layer resolves to. */
  expected: { defaults: unknown; marker: unknown; override: unknown; cli?: unknown };
  cli?: CliTestOverrides;
}

const KEY_CASES: KeyCase[] = [
  {
    key: 'timeoutSeconds', tomlKey: 'timeout', defaults: '10', override: '"2m"', marker: 30,
    expected: { defaults: 10, marker: 30, override: 120, cli: 5 }, cli: { timeoutSeconds: 5 },
  },
  { key: 'memoryBytes', tomlKey: 'memory', defaults: '"1G"', override: '"3G"', marker: '2G', expected: { defaults: GiB, marker: 2 * GiB, override: 3 * GiB } },
  { key: 'cpus', tomlKey: 'cpus', defaults: '2', override: '4', marker: 3, expected: { defaults: 2, marker: 3, override: 4 } },
  {
    key: 'resources', tomlKey: 'resources', defaults: '{ db = 1 }', override: '{ gpu = 2 }', marker: { gpu: 1, db: 1 },
    expected: { defaults: { db: 1 }, marker: { gpu: 1, db: 1 }, override: { gpu: 2 } },
  },
  { key: 'group', tomlKey: 'group', defaults: '"d"', override: '"o"', marker: 'm', expected: { defaults: 'd', marker: 'm', override: 'o' } },
  { key: 'exclusive', tomlKey: 'exclusive', defaults: 'true', override: 'true', marker: false, expected: { defaults: true, marker: false, override: true } },
  {
    key: 'retries', tomlKey: 'retries', defaults: '3', override: '0', marker: 2,
    expected: { defaults: 3, marker: 2, override: 0, cli: 1 }, cli: { retries: 1 },
  },
];

test('for every key, the highest layer that sets it wins: CLI > override > marker > defaults > built-in', () => {
  for (const c of KEY_CASES) {
    const layers = c.cli ? 4 : 3;
    for (let present = 0; present < 1 << layers; present += 1) {
      const has = { defaults: (present & 1) !== 0, marker: (present & 2) !== 0, override: (present & 4) !== 0, cli: (present & 8) !== 0 };
      let text = toml('resources = { gpu = 4, db = 2 }');
      if (has.defaults) text += toml('[defaults]', `${c.tomlKey} = ${c.defaults}`);
      if (has.override) text += toml('[[override]]', 'filter = "*"', `${c.tomlKey} = ${c.override}`);
      const info = testInfo('tests/t.py::a', { bulkheadMarker: has.marker ? { [c.tomlKey]: c.marker } : null });
      const { settings, origins } = resolveSettings(info, bulkheadToml(text), has.cli && c.cli ? c.cli : {});

      const winner = has.cli ? 'cli' : has.override ? 'override' : has.marker ? 'marker' : has.defaults ? 'defaults' : 'built-in';
      const label = `${c.key} with ${JSON.stringify(has)}`;
      const builtIn: TestSettings = resolveSettings(testInfo('x'), emptyConfig(), {}).settings;
      assert.deepEqual(settings[c.key], winner === 'built-in' ? builtIn[c.key] : c.expected[winner], label);
      const origin: Record<typeof winner, SettingOrigin> = {
        cli: { kind: 'cli', flag: c.key === 'retries' ? '--retries' : '--timeout' },
        override: override(0),
        marker: marker('bulkhead'),
        defaults: CONFIG,
        'built-in': { kind: 'default' },
      };
      assert.deepEqual(origins[c.key], origin[winner], label);
    }
  }
});

test('the top-level timeout and retries are every test\'s default, of origin config', () => {
  const resolved = resolveSettings(testInfo('t.py::a'), bulkheadToml(toml('timeout = 60', 'retries = 2')), {});
  assert.equal(resolved.settings.timeoutSeconds, 60);
  assert.equal(resolved.settings.retries, 2);
  assert.deepEqual(resolved.origins.timeoutSeconds, CONFIG);
});

test("pytest-timeout's marker sets the timeout; bulkhead's own marker, an override and --timeout beat it", () => {
  const config = bulkheadToml(toml('timeout = 60', '[[override]]', 'marker = "slow"', 'timeout = 600'));
  const plain = testInfo('t.py::a', { timeout: 5 });
  assert.deepEqual(resolveSettings(plain, config, {}).origins.timeoutSeconds, marker('timeout'));
  assert.equal(resolveSettings(plain, config, {}).settings.timeoutSeconds, 5);
  const both = testInfo('t.py::a', { timeout: 5, bulkheadMarker: { timeout: 7 } });
  assert.equal(resolveSettings(both, config, {}).settings.timeoutSeconds, 7);
  const slow = testInfo('t.py::a', { timeout: 5, markers: ['slow', 'timeout'] });
  assert.equal(resolveSettings(slow, config, {}).settings.timeoutSeconds, 600);
  assert.deepEqual(resolveSettings(slow, config, { timeoutSeconds: 1 }).origins.timeoutSeconds, { kind: 'cli', flag: '--timeout' });
});

test('xdist_group sets the group (origin xdist_group); bulkhead(group=...) beats it', () => {
  const grouped = testInfo('t.py::a', { xdistGroup: 'db', markers: ['xdist_group'] });
  assert.deepEqual(resolveSettings(grouped, emptyConfig(), {}).settings.group, 'db');
  assert.deepEqual(resolveSettings(grouped, emptyConfig(), {}).origins.group, marker('xdist_group'));
  const both = { ...grouped, bulkheadMarker: { group: 'mine' } };
  assert.deepEqual(resolveSettings(both, emptyConfig(), {}).settings.group, 'mine');
});

test('a serial marker makes a test serial; the config may name its own serial markers', () => {
  const cases: Array<[markers: string[], config: LoadedConfig, origin: SettingOrigin | null]> = [
    [['serial'], emptyConfig(), marker('serial')],
    [['parallel_unsafe'], emptyConfig(), marker('parallel_unsafe')],
    [['no_parallel', 'slow'], emptyConfig(), marker('no_parallel')],
    [['slow'], emptyConfig(), null],
    [['serial'], bulkheadToml(toml('serial-markers = ["db_writes"]')), null],
    [['db_writes'], bulkheadToml(toml('serial-markers = ["db_writes"]')), marker('db_writes')],
  ];
  for (const [markers, config, origin] of cases) {
    const resolved = resolveSettings(testInfo('t.py::a', { markers }), config, {});
    assert.equal(resolved.settings.serial, origin !== null, markers.join(','));
    assert.deepEqual(resolved.origins.serial, origin ?? { kind: 'default' }, markers.join(','));
  }
});

test('overrides select by glob, by marker expression, or by both at once', () => {
  const config = bulkheadToml(
    toml(
      '[[override]]', 'filter = "tests/heavy/*"', 'cpus = 2',
      '[[override]]', 'marker = "slow and not network"', 'memory = "1G"',
      '[[override]]', 'filter = "*::test_gpu_*"', 'marker = "gpu or cuda"', 'exclusive = true',
    ),
  );
  const cases: Array<[id: string, markers: string[], expected: Partial<TestSettings>]> = [
    ['tests/heavy/test_a.py::test_x', [], { cpus: 2, memoryBytes: null, exclusive: false }],
    ['tests/light/test_a.py::test_x', [], { cpus: 1, memoryBytes: null, exclusive: false }],
    ['tests/light/test_a.py::test_x', ['slow'], { cpus: 1, memoryBytes: GiB, exclusive: false }],
    ['tests/light/test_a.py::test_x', ['slow', 'network'], { cpus: 1, memoryBytes: null, exclusive: false }],
    ['tests/light/test_a.py::test_gpu_sum', ['cuda'], { exclusive: true }],
    ['tests/light/test_a.py::test_gpu_sum', [], { exclusive: false }],
    ['tests/light/test_a.py::test_cpu_sum', ['gpu'], { exclusive: false }],
    ['tests/heavy/test_b.py::test_gpu_x', ['gpu', 'slow'], { cpus: 2, memoryBytes: GiB, exclusive: true }],
  ];
  for (const [id, markers, expected] of cases) {
    const { settings } = resolveSettings(testInfo(id, { markers }), config, {});
    for (const [key, value] of Object.entries(expected)) assert.deepEqual(settings[key as SettingKey], value, `${id} [${markers}] ${key}`);
  }
});

test('overrides apply in file order: a later one wins for the keys it sets, the earlier keeps the rest', () => {
  const config = bulkheadToml(
    toml('[[override]]', 'filter = "*"', 'cpus = 2', 'memory = "1G"', '[[override]]', 'filter = "tests/*"', 'cpus = 3', '[[override]]', 'filter = "other/*"', 'cpus = 4'),
  );
  const { settings, origins } = resolveSettings(testInfo('tests/t.py::a'), config, {});
  assert.equal(settings.cpus, 3);
  assert.deepEqual(origins.cpus, override(1));
  assert.equal(settings.memoryBytes, GiB);
  assert.deepEqual(origins.memoryBytes, override(0));
});

test('resolved resources are a copy: no two tests share one table', () => {
  const config = bulkheadToml(toml('resources = { gpu = 1 }', '[defaults]', 'resources = { gpu = 1 }'));
  const a = resolveSettings(testInfo('a'), config, {}).settings;
  const b = resolveSettings(testInfo('b'), config, {}).settings;
  assert.notEqual(a.resources, b.resources);
  assert.notEqual(a.resources, config.defaults.resources);
});

test('a suite: tests with nothing of their own share one frozen settings object; the rest resolve alone, equal where they should', () => {
  const config = bulkheadToml(toml('timeout = 30', '[[override]]', 'filter = "t.py::slow*"', 'timeout = 300'));
  const tests = [
    testInfo('t.py::a'),
    testInfo('t.py::b'),
    testInfo('t.py::slow_one'),
    testInfo('t.py::marked', { timeout: 7 }),
    testInfo('t.py::serial', { markers: ['serial'] }),
    testInfo('t.py::grouped', { xdistGroup: 'g' }),
  ];
  const all = resolveAllSettings(tests, config, { retries: 2 });
  assert.ok(all.ok);
  const get = (id: string) => all.settings.get(id)!;
  assert.equal(get('t.py::a'), get('t.py::b'), 'one object for the plain tests');
  assert.ok(Object.isFrozen(get('t.py::a').settings) && Object.isFrozen(get('t.py::a').settings.resources));
  assert.throws(() => {
    (get('t.py::a').settings as { timeoutSeconds: number | null }).timeoutSeconds = 1;
  }, TypeError);
  for (const test of tests) assert.deepEqual(get(test.id), resolveSettings(test, config, { retries: 2 }), test.id);
  for (const own of ['t.py::slow_one', 't.py::marked', 't.py::serial', 't.py::grouped']) assert.notEqual(get(own), get('t.py::a'), own);
  assert.equal(get('t.py::slow_one').settings.timeoutSeconds, 300);
  assert.equal(get('t.py::a').settings.timeoutSeconds, 30);
});
