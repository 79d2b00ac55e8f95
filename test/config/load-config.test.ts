/**
 * Finding and reading the config file: bulkhead.toml, pyproject.toml's [tool.bulkhead], both,
 * neither, an explicit path, and TOML syntax errors with their line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig, type LoadConfigResult, type LoadedConfig } from '../../src/config/index.js';
import { toml, withProject } from '../support/config-project.js';

const GiB = 1024 ** 3;

function loaded(result: LoadConfigResult): LoadedConfig {
  if (!result.ok) assert.fail(result.errors.join('\n'));
  return result.config;
}

function errors(result: LoadConfigResult): string[] {
  if (result.ok) assert.fail('expected errors');
  return result.errors;
}

test('pyproject.toml: [tool.bulkhead] is read, with values in their own units', () => {
  const pyproject = toml(
    '[project]',
    'name = "demo"',
    '[tool.bulkhead]',
    'workers = 4',
    'timeout = "5m"',
    'memory-budget = "80%"',
    'worker-memory-max = "2G"',
    'mp-start-method = "spawn"',
    'thread-caps = false',
    'resources = { gpu = 1 }',
    '[tool.bulkhead.defaults]',
    'memory = "512M"',
    '[[tool.bulkhead.override]]',
    'filter = "tests/test_big.py::*"',
    'memory = "4G"',
    'resources = { gpu = 1 }',
  );
  const config = withProject({ 'pyproject.toml': pyproject }, (dir) => loaded(loadConfig(dir)));
  assert.equal(config.file, 'pyproject.toml');
  assert.deepEqual(config.run, {
    workers: 4,
    timeoutSeconds: 300,
    memoryBudget: { kind: 'percent', percent: 80 },
    workerMemoryMaxBytes: 2 * GiB,
    mpStartMethod: 'spawn',
    threadCaps: false,
    resources: { gpu: 1 },
  });
  assert.deepEqual(config.defaults, { memoryBytes: 512 * 1024 ** 2, timeoutSeconds: 300 });
  assert.equal(config.overrides.length, 1);
  assert.equal(config.overrides[0]!.filter!.pattern, 'tests/test_big.py::*');
  assert.equal(config.overrides[0]!.marker, null);
  assert.deepEqual(config.overrides[0]!.settings, { memoryBytes: 4 * GiB, resources: { gpu: 1 } });
  assert.deepEqual(config.notices, []);
});

test('bulkhead.toml: its top-level keys, and [[override]] tables', () => {
  const text = toml('retries = 2', 'serial-markers = ["db"]', '[[override]]', 'marker = "slow and not gpu"', 'cpus = 2');
  const config = withProject({ 'bulkhead.toml': text }, (dir) => loaded(loadConfig(dir)));
  assert.equal(config.file, 'bulkhead.toml');
  assert.deepEqual(config.run, { retries: 2, serialMarkers: ['db'] });
  assert.deepEqual(config.defaults, { retries: 2 });
  assert.equal(config.overrides[0]!.marker!.text, 'slow and not gpu');
  assert.deepEqual(config.overrides[0]!.settings, { cpus: 2 });
});

test('no config file, or a pyproject.toml without [tool.bulkhead]: an empty config', () => {
  const cases: Array<Record<string, string>> = [{}, { 'pyproject.toml': toml('[tool.pytest.ini_options]', 'addopts = "-q"') }];
  for (const files of cases) {
    const config = withProject(files, (dir) => loaded(loadConfig(dir)));
    assert.deepEqual(config, { file: null, run: {}, defaults: {}, overrides: [], notices: [] });
  }
});

test('both files configure bulkhead: bulkhead.toml wins, and a notice says so', () => {
  const files = { 'bulkhead.toml': toml('workers = 2'), 'pyproject.toml': toml('[tool.bulkhead]', 'workers = 8') };
  const config = withProject(files, (dir) => loaded(loadConfig(dir)));
  assert.equal(config.file, 'bulkhead.toml');
  assert.equal(config.run.workers, 2);
  assert.deepEqual(config.notices, ['bulkhead: using bulkhead.toml; the [tool.bulkhead] table in pyproject.toml is ignored']);
});

test('bulkhead.toml beside a pyproject.toml that does not configure bulkhead: no notice', () => {
  const files = { 'bulkhead.toml': toml('workers = 2'), 'pyproject.toml': toml('[project]', 'name = "x"') };
  assert.deepEqual(withProject(files, (dir) => loaded(loadConfig(dir))).notices, []);
});

test('an explicit path: a pyproject.toml by its table, any other file by its top level', () => {
  const files = {
    'ci.toml': toml('workers = 3'),
    'pyproject.toml': toml('[tool.bulkhead]', 'workers = 5'),
    'bulkhead.toml': toml('workers = 7'),
  };
  withProject(files, (dir) => {
    assert.equal(loaded(loadConfig(dir, 'ci.toml')).run.workers, 3);
    assert.equal(loaded(loadConfig(dir, 'ci.toml')).file, 'ci.toml');
    assert.equal(loaded(loadConfig(dir, 'pyproject.toml')).run.workers, 5);
    assert.equal(loaded(loadConfig(dir, join(dir, 'ci.toml'))).file, 'ci.toml');
    assert.deepEqual(errors(loadConfig(dir, 'missing.toml')), ['missing.toml: cannot read the config file: no such file']);
  });
  withProject({ 'pyproject.toml': toml('[project]') }, (dir) => {
    assert.deepEqual(errors(loadConfig(dir, 'pyproject.toml')), ['pyproject.toml: has no [tool.bulkhead] table']);
  });
});

test('a relative python path is relative to the config file; a bare name is left for PATH', () => {
  withProject({ 'bulkhead.toml': toml('python = ".venv/bin/python"'), 'other.toml': toml('python = "python3.12"') }, (dir) => {
    assert.equal(loaded(loadConfig(dir)).run.python, join(dir, '.venv/bin/python'));
    assert.equal(loaded(loadConfig(dir, 'other.toml')).run.python, 'python3.12');
  });
});

test('a TOML syntax error names the file, line and column', () => {
  const text = toml('[tool.bulkhead]', 'workers = 2', 'timeout = "30', 'retries = 1');
  const got = withProject({ 'pyproject.toml': text }, (dir) => errors(loadConfig(dir)));
  assert.equal(got.length, 1);
  assert.match(got[0]!, /^pyproject\.toml:3:\d+: invalid TOML: \S/);
  const duplicate = withProject({ 'bulkhead.toml': toml('workers = 2', 'workers = 3') }, (dir) => errors(loadConfig(dir)));
  assert.match(duplicate[0]!, /^bulkhead\.toml:2:\d+: invalid TOML: /);
});

test('a broken pyproject.toml is an error when it is the only candidate, and ignored beside bulkhead.toml', () => {
  const broken = toml('[tool.bulkhead', 'workers = 2');
  assert.match(withProject({ 'pyproject.toml': broken }, (dir) => errors(loadConfig(dir)))[0]!, /^pyproject\.toml:1:\d+: invalid TOML/);
  const config = withProject({ 'pyproject.toml': broken, 'bulkhead.toml': toml('workers = 2') }, (dir) => loaded(loadConfig(dir)));
  assert.equal(config.run.workers, 2);
});
