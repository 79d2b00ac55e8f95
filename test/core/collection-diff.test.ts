/**
 * The collection check: a worker's ids must be the reference's, whole (today) or file by file (a
 * worker that collects lazily); the difference is spelled out either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeCollectionDiff, describeFileDiff, idsOfFile } from '../../src/core/collection-diff.js';
import { testInfo } from '../support/core-driver.js';

test('the same ids in the same order: no difference', () => {
  assert.equal(describeCollectionDiff(['a', 'b'], ['a', 'b'], 'gw0', 'gw1'), null);
});

test('ids only one side has are listed under each worker', () => {
  const diff = describeCollectionDiff(['a', 'b'], ['a', 'c', 'd'], 'gw0', 'gw1') ?? '';
  assert.match(diff, /^Different tests were collected by gw0 \(2\) and gw1 \(3\):/);
  assert.match(diff, /only in gw0:\n {4}b\n/);
  assert.match(diff, /only in gw1:\n {4}c\n {4}d\n/);
  assert.match(diff, /Collection must be deterministic/);
});

test('the same ids in another order: the first position that differs', () => {
  const diff = describeCollectionDiff(['a', 'b', 'c'], ['a', 'c', 'b'], 'gw0', 'gw1') ?? '';
  assert.match(diff, /same tests in a different order, first difference at position 2:\n {4}gw0: b\n {4}gw1: c/);
});

test('more than 20 ids on one side: the first 20 and a count of the rest', () => {
  const many = Array.from({ length: 25 }, (_, n) => `t${n}`);
  const diff = describeCollectionDiff(many, [], 'gw0', 'gw1') ?? '';
  assert.match(diff, / {4}t19\n {4}\.\.\. and 5 more/);
  assert.doesNotMatch(diff, /t20/);
});

const SUITE = [testInfo('test_1', 'test_a'), testInfo('test_2', 'test_a'), testInfo('test_1', 'test_b')];

test("a file's ids are the reference's tests of that scope, in collection order", () => {
  assert.deepEqual(idsOfFile(SUITE, SUITE[0]!.scope), [SUITE[0]!.id, SUITE[1]!.id]);
  assert.deepEqual(idsOfFile(SUITE, 'test_none.py'), []);
});

test('a lazily collected file that matches the reference: no difference', () => {
  assert.equal(describeFileDiff(SUITE, SUITE[2]!.scope, [SUITE[2]!.id], 'gw0', 'gw1'), null);
});

test("a lazily collected file's order does not matter (its tests are found by id)", () => {
  assert.equal(describeFileDiff(SUITE, SUITE[0]!.scope, [SUITE[1]!.id, SUITE[0]!.id], 'gw0', 'gw1'), null);
});

test('a lazily collected file with a test twice differs from one with it once', () => {
  assert.match(describeFileDiff(SUITE, SUITE[2]!.scope, [SUITE[2]!.id, SUITE[2]!.id], 'gw0', 'gw1') ?? '', /\(1\) and gw1 \(2\)/);
});

test('a lazily collected file that differs names the file and the ids', () => {
  const file = SUITE[0]!.scope;
  const diff = describeFileDiff(SUITE, file, [SUITE[0]!.id, `${file}::test_3`], 'gw0', 'gw1') ?? '';
  assert.match(diff, new RegExp(`^Different tests were collected in ${file.replace(/\./g, '\\.')} by gw0 \\(2\\) and gw1 \\(2\\):`));
  assert.match(diff, /only in gw0:\n {4}\S+::test_2\n/);
  assert.match(diff, /only in gw1:\n {4}\S+::test_3\n/);
});

test('a file the reference has no test of, where the worker found tests: a difference', () => {
  assert.match(describeFileDiff(SUITE, 'test_new.py', ['test_new.py::test_x'], 'gw0', 'gw1') ?? '', /only in gw1:\n {4}test_new\.py::test_x/);
});
