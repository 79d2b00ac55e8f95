/**
 * Targeted collection's pure parts: which file(s) a retried test's fresh worker collects
 * (isolatedScope), the file-by-file check of its partial collection (judgeTargeted), and the
 * translation between its indices and the suite's (IndexMap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IndexMap, inSuiteTerms, inWorkerTerms } from '../../src/core/index-map.js';
import { isolatedScope, judgeTargeted } from '../../src/core/targeted-collection.js';
import type { TestInfo } from '../../src/model/test.js';
import { testInfo } from '../support/core-driver.js';

const A1 = testInfo('test_1', 'test_a');
const A2 = testInfo('test_2', 'test_a');
const B1 = testInfo('test_1', 'test_b');
const B2 = testInfo('test_2', 'test_b');
const C1 = testInfo('test_1', 'test_c');
const SUITE = [A1, A2, B1, B2, C1];
const NAMES = { reference: 'worker 1 (pid 11)', worker: 'worker 3 (pid 13)' };

test('the file of a test is its module, relative to the rootdir', () => {
  assert.deepEqual(isolatedScope(SUITE, '/p', 2), { rootdir: '/p', files: ['test_b.py'] });
});

test('--pyargs: the file climbs out of the rootdir, the node id is relative to the argument; the file is the module', () => {
  const file = '../../root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/numpy/linalg/tests/test_linalg.py';
  const numpy: TestInfo = { ...A1, id: 'tests/test_linalg.py::TestSolve::test_sq_cases', file, scope: 'tests/test_linalg.py' };
  assert.deepEqual(isolatedScope([numpy], '/tmp/run', 0), { rootdir: '/tmp/run', files: [file] });
});

test("a method inherited from another module's class: both its file and its module's node id are named", () => {
  const inherited: TestInfo = { ...B1, id: 'tests/test_child.py::TestChild::test_base', file: 'tests/base.py', scope: 'tests/test_child.py' };
  assert.deepEqual(isolatedScope([inherited], '/p', 0), { rootdir: '/p', files: ['tests/base.py', 'tests/test_child.py'] });
});

test('no file to name: no rootdir yet, no file, or an id that is not unique (the whole suite is collected)', () => {
  assert.equal(isolatedScope(SUITE, null, 0), null);
  assert.equal(isolatedScope([{ ...A1, file: '' }], '/p', 0), null);
  assert.equal(isolatedScope([A1, A2, A1], '/p', 0), null);
  assert.equal(isolatedScope(SUITE, '/p', 9), null);
});

test("a partial collection that matches: its indices numbered as the suite's, in any order within a file", () => {
  const verdict = judgeTargeted(SUITE, [B2, B1], 2, NAMES);
  assert.equal(verdict.kind, 'match');
  if (verdict.kind !== 'match') return;
  assert.deepEqual(verdict.map.toSuite([0, 1]), [3, 2]);
  assert.deepEqual(verdict.map.toWorker([2, 3]), [1, 0]);
  assert.equal(verdict.map.toWorker([0]), null, 'a test it did not collect');
  assert.equal(verdict.map.toSuite([2]), null, 'an index past its collection');
});

test('two files collected (one named on the command line): each is checked and numbered', () => {
  const verdict = judgeTargeted(SUITE, [A1, A2, C1], 4, NAMES);
  assert.ok(verdict.kind === 'match');
  assert.deepEqual(verdict.map.toSuite([0, 1, 2]), [0, 1, 4]);
});

test('a file that holds another test than the reference has: the difference, naming the file', () => {
  const extra = testInfo('test_3', 'test_b');
  const verdict = judgeTargeted(SUITE, [B1, B2, extra], 2, NAMES);
  assert.equal(verdict.kind, 'mismatch');
  const detail = verdict.kind === 'mismatch' ? verdict.detail : '';
  assert.match(detail, /^Different tests were collected in test_b\.py by worker 1 \(pid 11\) \(2\) and worker 3 \(pid 13\) \(3\):/);
  assert.match(detail, /only in worker 3 \(pid 13\):\n {4}test_b\.py::test_3/);
});

test('a file that lacks one of its tests: a mismatch too', () => {
  const verdict = judgeTargeted(SUITE, [B1], 2, NAMES);
  assert.equal(verdict.kind, 'mismatch');
  assert.match(verdict.kind === 'mismatch' ? verdict.detail : '', /only in worker 1 \(pid 11\):\n {4}test_b\.py::test_2/);
});

test('files that match but lack the test to run (or nothing collected): missing', () => {
  assert.deepEqual(judgeTargeted(SUITE, [A1, A2], 2, NAMES), { kind: 'missing' });
  assert.deepEqual(judgeTargeted(SUITE, [], 2, NAMES), { kind: 'missing' });
});

test('a repeated id: the k-th in the worker is the k-th in the suite', () => {
  const suite = [A1, B1, A1];
  const verdict = judgeTargeted(suite, [A1, A1], 2, NAMES);
  assert.ok(verdict.kind === 'match');
  assert.deepEqual(verdict.map.toSuite([0, 1]), [0, 2]);
});

test('commands out: run indices and thread caps keyed by index, steal; others as they are', () => {
  const map = new IndexMap([7, 3]);
  assert.deepEqual(map.command({ type: 'run', indices: [3, 7], threads: { '7': 2 } }), { type: 'run', indices: [1, 0], threads: { '0': 2 } });
  assert.deepEqual(map.command({ type: 'run', indices: [7] }), { type: 'run', indices: [0] });
  assert.deepEqual(map.command({ type: 'steal', indices: [3] }), { type: 'steal', indices: [1] });
  assert.deepEqual(map.command({ type: 'flush' }), { type: 'flush' });
  assert.equal(map.command({ type: 'run', indices: [5] }), null);
  assert.equal(map.command({ type: 'run', indices: [7], threads: { '5': 2 } }), null);
  assert.equal(map.command({ type: 'steal', indices: [5] }), null);
});

test('a worker that collected the whole suite has no map: its numbering is the suite’s', () => {
  assert.deepEqual(inWorkerTerms(null, { type: 'run', indices: [4] }), { type: 'run', indices: [4] });
  assert.deepEqual(inSuiteTerms(null, [4, 1]), [4, 1]);
  assert.deepEqual(inSuiteTerms(new IndexMap([9]), [0]), [9]);
  assert.equal(inSuiteTerms(new IndexMap([9]), [1]), null);
});
