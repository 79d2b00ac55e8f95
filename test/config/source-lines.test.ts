/**
 * The line of a key path in TOML text, for schema errors: headers, arrays of tables and their
 * sub-tables, dotted and quoted keys, multi-line strings, and the nearest ancestor otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findKeyLine, type KeyPath } from '../../src/config/source-lines.js';
import { toml } from '../support/config-project.js';

const SOURCE = toml(
  '[tool.pytest.ini_options]', // 1
  'addopts = """', // 2
  'memory = "not a key"', // 3
  '"""', // 4
  '[tool.bulkhead]', // 5
  'workers = 2 # a comment', // 6
  'defaults.memory = "1G"', // 7
  '"serial-markers" = ["a"]', // 8
  '  [[ tool.bulkhead.override ]]', // 9
  '  filter = "a"', // 10
  '[tool.bulkhead.override.resources]', // 11
  'gpu = 1', // 12
  '[[tool.bulkhead.override]]', // 13
  "'marker' = 'b'", // 14
  'resources = { gpu = 0 }', // 15
  '[tool.bulkhead.inline]', // 16
  'list = [', // 17
  '  { a = 1 },', // 18
  ']', // 19
);

test('key paths are found on their own line, or on their nearest ancestor', () => {
  const cases: Array<[path: KeyPath, line: number | null]> = [
    [['tool', 'bulkhead', 'workers'], 6],
    [['tool', 'bulkhead', 'defaults', 'memory'], 7],
    [['tool', 'bulkhead', 'defaults'], 7],
    [['tool', 'bulkhead', 'serial-markers'], 8],
    [['tool', 'bulkhead', 'override', 0], 9],
    [['tool', 'bulkhead', 'override', 0, 'filter'], 10],
    [['tool', 'bulkhead', 'override', 0, 'resources', 'gpu'], 12],
    [['tool', 'bulkhead', 'override', 1], 13],
    [['tool', 'bulkhead', 'override', 1, 'marker'], 14],
    [['tool', 'bulkhead', 'override', 1, 'resources', 'gpu'], 15],
    [['tool', 'bulkhead', 'override', 1, 'cpus'], 13],
    [['tool', 'bulkhead', 'inline', 'list', 0, 'a'], 17],
    [['tool', 'bulkhead', 'python'], 5],
    [['tool', 'pytest', 'ini_options', 'memory'], 1],
    [['project'], null],
  ];
  for (const [path, line] of cases) assert.equal(findKeyLine(SOURCE, path), line, path.join('.'));
});
