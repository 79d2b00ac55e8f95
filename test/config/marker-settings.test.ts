/**
 * `@pytest.mark.bulkhead(...)` kwargs are checked with the override keys; every error names
 * the test, the kwarg and what is allowed, and resolveAllSettings reports them all at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  emptyConfig,
  loadConfig,
  markerSettings,
  resolveAllSettings,
  resolveSettings,
  TestSettingsError,
  type LoadedConfig,
} from '../../src/config/index.js';
import { testInfo, toml, withProject } from '../support/config-project.js';

const ID = 'tests/test_x.py::test_y';
const WITH_GPU: LoadedConfig = (() => {
  const result = withProject({ 'bulkhead.toml': toml('resources = { gpu = 1 }') }, (dir) => loadConfig(dir));
  if (!result.ok) assert.fail(result.errors.join('\n'));
  return result.config;
})();

function errorsFor(kwargs: Record<string, unknown>, config: LoadedConfig = WITH_GPU): string[] {
  const result = markerSettings(testInfo(ID, { bulkheadMarker: kwargs }), config);
  if (result.ok) assert.fail(`expected errors for ${JSON.stringify(kwargs)}`);
  return result.errors;
}

test('valid kwargs become settings', () => {
  const kwargs = { timeout: 2.5, memory: '300M', cpus: 2, resources: { gpu: 1 }, group: 'db', exclusive: true, retries: 0 };
  assert.deepEqual(markerSettings(testInfo(ID, { bulkheadMarker: kwargs }), WITH_GPU), {
    ok: true,
    settings: { timeoutSeconds: 2.5, memoryBytes: 300 * 1024 ** 2, cpus: 2, resources: { gpu: 1 }, group: 'db', exclusive: true, retries: 0 },
  });
  assert.deepEqual(markerSettings(testInfo(ID, { bulkheadMarker: {} }), WITH_GPU), { ok: true, settings: {} });
  assert.deepEqual(markerSettings(testInfo(ID), WITH_GPU), { ok: true, settings: {} });
});

test('kwarg errors name the test, the kwarg and what is allowed', () => {
  const marker = `${ID}: @pytest.mark.bulkhead`;
  const cases: Array<[kwargs: Record<string, unknown>, error: string]> = [
    [{ memroy: '1G' }, `${marker}(memroy=...): unknown key 'memroy' (allowed: timeout, memory, cpus, resources, group, exclusive, retries)`],
    [{ filter: '*' }, `${marker}(filter=...): unknown key 'filter' (allowed: timeout, memory, cpus, resources, group, exclusive, retries)`],
    [{ memory: '12 gigs' }, `${marker}(memory=...): "12 gigs" is not a size (use e.g. "512M", "12G")`],
    [{ timeout: 0 }, `${marker}(timeout=...): 0 is not a duration (use seconds > 0, e.g. 30, 2.5, "90s", "5m")`],
    [{ cpus: 1.5 }, `${marker}(cpus=...): 1.5 is not a CPU count (use a whole number >= 1)`],
    [{ exclusive: 'yes' }, `${marker}(exclusive=...): "yes" is not a boolean (use true or false)`],
    [{ retries: null }, `${marker}(retries=...): nothing is not a retry count (use a whole number >= 0)`],
    [{ group: '' }, `${marker}(group=...): "" is not a group name (use a non-empty string, e.g. "database")`],
    [{ resources: { gpu: 0 } }, `${marker}(resources=...): resources.gpu: 0 is not a token count (use a whole number >= 1)`],
    [
      { resources: { tpu: 1 } },
      `${marker}(resources=...): resources.tpu: unknown resource 'tpu' (declared in the resources table of bulkhead.toml: gpu)`,
    ],
  ];
  for (const [kwargs, error] of cases) assert.deepEqual(errorsFor(kwargs), [error], JSON.stringify(kwargs));
});

test('a resource asked for by a marker when there is no config file at all', () => {
  assert.deepEqual(errorsFor({ resources: { gpu: 1 } }, emptyConfig()), [
    `${ID}: @pytest.mark.bulkhead(resources=...): resources.gpu: unknown resource 'gpu' (there is no config file to declare it: add resources = { gpu = 1 } to bulkhead.toml or [tool.bulkhead])`,
  ]);
});

test('resolveSettings throws a TestSettingsError; resolveAllSettings gathers every test\'s errors', () => {
  const bad = testInfo('t.py::bad', { bulkheadMarker: { memroy: 1, cpus: 0 } });
  assert.throws(() => resolveSettings(bad, WITH_GPU, {}), (error: unknown) => error instanceof TestSettingsError && error.errors.length === 2);
  const tests = [testInfo('t.py::ok', { bulkheadMarker: { cpus: 2 } }), bad, testInfo('t.py::worse', { bulkheadMarker: { group: 1 } })];
  const all = resolveAllSettings(tests, WITH_GPU, {});
  assert.equal(all.ok, false);
  // A node id holds '::' but never ': ', which ends it in every message.
  if (!all.ok) assert.deepEqual(all.errors.map((error) => error.slice(0, error.indexOf(': '))), ['t.py::bad', 't.py::bad', 't.py::worse']);
  const good = resolveAllSettings(tests.slice(0, 1), WITH_GPU, { retries: 0 });
  assert.ok(good.ok);
  if (good.ok) assert.equal(good.settings.get('t.py::ok')!.settings.cpus, 2);
});
