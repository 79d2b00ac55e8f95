/**
 * Node-id globs for [[override]] filter: `*` crosses `/` and `::`, `?` is one character, classes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob } from '../../src/config/glob.js';

function matches(pattern: string, id: string): boolean {
  const compiled = compileGlob(pattern);
  assert.ok(compiled.ok, `${pattern} should compile`);
  return compiled.regex.test(id);
}

test('globs match whole node ids', () => {
  const cases: Array<[pattern: string, id: string, expected: boolean]> = [
    ['tests/test_smoke.py::*', 'tests/test_smoke.py::test_a', true],
    ['tests/test_smoke.py::*', 'tests/test_smoke.py::TestX::test_a[1-2]', true],
    ['tests/test_smoke.py::*', 'tests/test_smoke_2.py::test_a', false],
    ['tests/*', 'tests/deep/er/test_x.py::TestY::test_z', true],
    ['*::test_heavy*', 'tests/a/test_b.py::test_heavy_numpy', true],
    ['*::test_heavy*', 'tests/a/test_b.py::test_light', false],
    ['test_a.py', 'tests/test_a.py', false],
    ['tests/test_?.py::*', 'tests/test_a.py::t', true],
    ['tests/test_?.py::*', 'tests/test_ab.py::t', false],
    ['tests/test_[ab].py::*', 'tests/test_b.py::t', true],
    ['tests/test_[ab].py::*', 'tests/test_c.py::t', false],
    ['tests/test_[a-c].py::*', 'tests/test_c.py::t', true],
    ['tests/test_[!a].py::*', 'tests/test_a.py::t', false],
    ['tests/test_[!a].py::*', 'tests/test_b.py::t', true],
    ['*::test_x[[]1-2]', 'm.py::test_x[1-2]', true],
    ['*::test_x[1-2]', 'm.py::test_x[1-2]', false],
    ['*::test_x[1-2]', 'm.py::test_x2', true],
    ['a.b(c)+$^|{1}', 'a.b(c)+$^|{1}', true],
    ['a.b', 'axb', false],
    ['[]]', ']', true],
    ['[^x]', 'x', true],
  ];
  for (const [pattern, id, expected] of cases) assert.equal(matches(pattern, id), expected, `${pattern} vs ${id}`);
});

test('an unclosed [ is an error with its column', () => {
  assert.deepEqual(compileGlob('tests/test_[ab.py'), { ok: false, error: "unclosed '[' at column 12 (a literal '[' is written '[[]')" });
  assert.equal(compileGlob('[!]').ok, false);
});
