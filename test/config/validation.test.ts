/**
 * Every key's validation: the message names the file, the line, the key path and what is
 * allowed. Unknown keys list the allowed ones; an override's resources must be declared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.js';
import { toml, withProject } from '../support/config-project.js';

function errorsOf(files: Record<string, string>): string[] {
  const result = withProject(files, (dir) => loadConfig(dir));
  if (result.ok) assert.fail(`expected errors for ${JSON.stringify(files)}`);
  return result.errors;
}

const SIZE = '(use e.g. "512M", "12G")';

test('each run option: a bad value names the file, line, key and what is allowed', () => {
  const cases: Array<[line: string, error: string]> = [
    ['workers = 0', 'tool.bulkhead.workers: 0 is not a worker count (use a whole number >= 1 or "auto")'],
    ['workers = "many"', 'tool.bulkhead.workers: "many" is not a worker count (use a whole number >= 1 or "auto")'],
    ['standby = -1', 'tool.bulkhead.standby: -1 is not a standby count (use a whole number >= 0)'],
    ['timeout = 0', 'tool.bulkhead.timeout: 0 is not a duration (use seconds > 0, e.g. 30, 2.5, "90s", "5m")'],
    ['timeout = "soon"', 'tool.bulkhead.timeout: "soon" is not a duration (use seconds > 0, e.g. 30, 2.5, "90s", "5m")'],
    ['retries = 1.5', 'tool.bulkhead.retries: 1.5 is not a retry count (use a whole number >= 0)'],
    ['memory-budget = "lots"', 'tool.bulkhead.memory-budget: "lots" is not a memory budget (use a size such as "4G" or a share of the limit such as "80%")'],
    ['memory-budget = "150%"', 'tool.bulkhead.memory-budget: "150%" is not a memory budget (use a size such as "4G" or a share of the limit such as "80%")'],
    ['worker-memory-max = "12 gigs"', `tool.bulkhead.worker-memory-max: "12 gigs" is not a size ${SIZE}`],
    ['worker-recycle-memory = -5', `tool.bulkhead.worker-recycle-memory: -5 is not a size ${SIZE}`],
    ['mp-start-method = "thread"', 'tool.bulkhead.mp-start-method: "thread" is not a start method (use "fork", "spawn" or "forkserver")'],
    ['thread-caps = "yes"', 'tool.bulkhead.thread-caps: "yes" is not a boolean (use true or false)'],
    ['serial-markers = "serial"', 'tool.bulkhead.serial-markers: "serial" is not a list of marker names (use e.g. ["serial", "no_parallel"])'],
    ['serial-markers = ["a b"]', 'tool.bulkhead.serial-markers: ["a b"] is not a list of marker names (use e.g. ["serial", "no_parallel"])'],
    ['resources = 3', 'tool.bulkhead.resources: 3 is not a table of resources (use [tool.bulkhead.resources] with e.g. gpu = 1)'],
    ['resources = { gpu = 0 }', 'tool.bulkhead.resources.gpu: 0 is not a capacity (use a whole number >= 1)'],
    ['python = ""', 'tool.bulkhead.python: "" is not a Python path (use a non-empty string, e.g. ".venv/bin/python")'],
    ['defaults = 1', 'tool.bulkhead.defaults: 1 is not a table (use [tool.bulkhead.defaults])'],
    ['override = { cpus = 2 }', 'tool.bulkhead.override: a table is not a list of tables (use [[tool.bulkhead.override]])'],
  ];
  for (const [line, error] of cases) {
    assert.deepEqual(errorsOf({ 'pyproject.toml': toml('[project]', 'name = "x"', '', '[tool.bulkhead]', line) }), [`pyproject.toml:5: ${error}`], line);
  }
});

test('each test key, in [defaults] and in an [[override]]: a bad value and what is allowed', () => {
  const cases: Array<[line: string, error: string]> = [
    ['timeout = -1', 'timeout: -1 is not a duration (use seconds > 0, e.g. 30, 2.5, "90s", "5m")'],
    ['memory = "12 gigs"', `memory: "12 gigs" is not a size ${SIZE}`],
    ['memory = 0', `memory: 0 is not a size ${SIZE}`],
    ['cpus = 0', 'cpus: 0 is not a CPU count (use a whole number >= 1)'],
    ['cpus = "2"', 'cpus: "2" is not a CPU count (use a whole number >= 1)'],
    ['resources = { gpu = 0 }', 'resources.gpu: 0 is not a token count (use a whole number >= 1)'],
    ['resources = ["gpu"]', 'resources: ["gpu"] is not a table of resources (use e.g. { gpu = 1 })'],
    ['group = 5', 'group: 5 is not a group name (use a non-empty string, e.g. "database")'],
    ['exclusive = 1', 'exclusive: 1 is not a boolean (use true or false)'],
    ['retries = -1', 'retries: -1 is not a retry count (use a whole number >= 0)'],
  ];
  const head = toml('resources = { gpu = 1 }');
  for (const [line, error] of cases) {
    const defaults = errorsOf({ 'bulkhead.toml': `${head}[defaults]\n${line}\n` });
    assert.deepEqual(defaults, [`bulkhead.toml:3: defaults.${error}`], line);
    const override = errorsOf({ 'bulkhead.toml': `${head}[[override]]\nfilter = "*"\n\n[[override]]\nmarker = "slow"\n${line}\n` });
    assert.deepEqual(override, [`bulkhead.toml:7: override[1].${error}`], line);
  }
});

test('the example of the design: pyproject.toml:14: tool.bulkhead.override[1].memory', () => {
  const lines = ['[project]', 'name = "demo"', '', '[tool.pytest.ini_options]', 'addopts = "-q"', '', '[tool.bulkhead]', 'workers = 2', ''];
  lines.push('[[tool.bulkhead.override]]', 'filter = "tests/a.py::*"', '', '[[tool.bulkhead.override]]', 'memory = "12 gigs"', 'marker = "big"');
  assert.deepEqual(errorsOf({ 'pyproject.toml': toml(...lines) }), [
    'pyproject.toml:14: tool.bulkhead.override[1].memory: "12 gigs" is not a size (use e.g. "512M", "12G")',
  ]);
});

test('unknown keys are errors that list the allowed keys, wherever they are', () => {
  const text = toml('workerz = 2', '[defaults]', 'memroy = "1G"', '[[override]]', 'filter = "*"', 'filters = "x"', 'cpu = 2');
  const testKeys = 'timeout, memory, cpus, resources, group, exclusive, retries';
  assert.deepEqual(errorsOf({ 'bulkhead.toml': text }), [
    "bulkhead.toml:1: workerz: unknown key 'workerz' (allowed: workers, standby, timeout, retries, memory-budget, worker-memory-max, worker-recycle-memory, mp-start-method, thread-caps, xdist-identity, serial-markers, resources, python, record, keep-runs, defaults, override)",
    `bulkhead.toml:3: defaults.memroy: unknown key 'memroy' (allowed: ${testKeys})`,
    `bulkhead.toml:6: override[0].filters: unknown key 'filters' (allowed: filter, marker, ${testKeys})`,
    `bulkhead.toml:7: override[0].cpu: unknown key 'cpu' (allowed: filter, marker, ${testKeys})`,
  ]);
});

test('an override selects by filter, marker or both, and says so when it has neither', () => {
  const text = toml('[[override]]', 'filter = "*"', '[[override]]', 'cpus = 2', '[[override]]', 'marker = "a"', 'filter = "b"');
  assert.deepEqual(errorsOf({ 'bulkhead.toml': text }), ['bulkhead.toml:3: override[1]: needs a filter (a node-id glob), a marker (an expression) or both']);
});

test('a bad filter or marker expression is a config error with its line and column', () => {
  const text = toml('[[override]]', 'filter = "tests/[ab.py::*"', '[[override]]', 'marker = "slow and"', '[[override]]', 'marker = 3');
  const use = '(use marker names with \'and\', \'or\', \'not\' and parentheses, e.g. "slow and not gpu")';
  assert.deepEqual(errorsOf({ 'bulkhead.toml': text }), [
    `bulkhead.toml:2: override[0].filter: "tests/[ab.py::*" is not a node-id glob: unclosed '[' at column 7 (a literal '[' is written '[[]')`,
    `bulkhead.toml:4: override[1].marker: "slow and" is not a marker expression: at column 9: expected a marker name, 'not' or '(', got the end ${use}`,
    `bulkhead.toml:6: override[2].marker: 3 is not a marker expression ${use}`,
  ]);
});

test('an override or default asking for an undeclared resource is an error naming the declared ones', () => {
  const declared = toml('[tool.bulkhead]', 'resources = { gpu = 1, db = 2 }', '[[tool.bulkhead.override]]', 'filter = "*"', 'resources = { tpu = 1 }');
  assert.deepEqual(errorsOf({ 'pyproject.toml': declared }), [
    "pyproject.toml:5: tool.bulkhead.override[0].resources.tpu: unknown resource 'tpu' (declared in [tool.bulkhead.resources]: gpu, db)",
  ]);
  const none = toml('[defaults.resources]', 'gpu = 1');
  assert.deepEqual(errorsOf({ 'bulkhead.toml': none }), [
    "bulkhead.toml:2: defaults.resources.gpu: unknown resource 'gpu' ([resources] declares none; add e.g. gpu = 1 there)",
  ]);
});

test('timeout and retries at the top level and in [defaults] at once: keep one', () => {
  const text = toml('timeout = 30', 'retries = 1', '[defaults]', 'timeout = 60');
  assert.deepEqual(errorsOf({ 'bulkhead.toml': text }), ["bulkhead.toml:4: defaults.timeout: also set as the top-level 'timeout': keep one of the two"]);
});

test('every problem of a file is reported at once, in line order', () => {
  const text = toml('[[override]]', 'cpus = 0', '[defaults]', 'memory = "x"', '[resources]', 'gpu = -1');
  const got = errorsOf({ 'bulkhead.toml': text });
  assert.deepEqual(got.map((error) => error.split(':').slice(0, 2).join(':')), [
    'bulkhead.toml:1',
    'bulkhead.toml:2',
    'bulkhead.toml:4',
    'bulkhead.toml:6',
  ]);
});
