/**
 * What admission is told about each test: declared memory beats history beats a guess; serial
 * markers become one shared token; groups come from settings or xdist_group; a family is a
 * parametrized function; probing only where the budget is tight.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestSettings } from '../../src/model/settings.js';
import type { TestInfo } from '../../src/model/test.js';
import { familyOf, guessBytes, planDemands, runCapacity, SERIAL_TOKEN } from '../../src/core/test-demands.js';

const G = 1024 ** 3;

function info(id: string, extra: Partial<TestInfo> = {}): TestInfo {
  return { id, file: 'tests/t.py', line: 0, markers: [], scope: 'tests/t.py', timeout: null, bulkheadMarker: null, xdistGroup: null, ...extra };
}

function settings(extra: Partial<TestSettings> = {}): TestSettings {
  return { timeoutSeconds: null, memoryBytes: null, cpus: 1, resources: {}, group: null, exclusive: false, serial: false, retries: null, ...extra };
}

test('memory: declared beats history beats the guess; larger than the budget is flagged', () => {
  const tests = [info('t::declared'), info('t::remembered'), info('t::unknown'), info('t::huge')];
  const plan = planDemands({
    tests,
    settings: [settings({ memoryBytes: 3 * G }), settings(), settings(), settings({ memoryBytes: 9 * G })],
    peaks: new Map([['t::declared', 1 * G], ['t::remembered', 2 * G]]),
    budgetBytes: 8 * G,
    workers: 4,
  });
  assert.deepEqual(plan.demands.map((d) => d.memoryBytes), [3 * G, 2 * G, guessBytes(8 * G, 4), 9 * G]);
  assert.deepEqual(plan.oversize, [3]);
  assert.equal(plan.guessed, 1);
  // 2 GiB per worker is tight: the unknown test's family is probed.
  assert.deepEqual(plan.demands.map((d) => d.measured), [true, true, false, true]);
});

test('probing: only where the budget per worker is under 4 GiB', () => {
  const roomy = planDemands({ tests: [info('t::a[1]')], settings: null, peaks: new Map(), budgetBytes: 20 * G, workers: 2 });
  assert.equal(roomy.demands[0]!.measured, true, 'a guess, but no probing');
  const tight = planDemands({ tests: [info('t::a[1]')], settings: null, peaks: new Map(), budgetBytes: 4 * G, workers: 4 });
  assert.equal(tight.demands[0]!.measured, false);
});

test('serial markers share one token of capacity 1; resources, cpus, exclusive and groups pass through', () => {
  const tests = [info('t::s'), info('t::g', { xdistGroup: 'db' }), info('t::o')];
  const plan = planDemands({
    tests,
    settings: [settings({ serial: true, resources: { gpu: 1 } }), settings(), settings({ cpus: 2, exclusive: true, group: 'mine' })],
    peaks: new Map(),
    budgetBytes: 20 * G,
    workers: 2,
  });
  assert.deepEqual(plan.demands[0]!.resources, { gpu: 1, [SERIAL_TOKEN]: 1 });
  assert.equal(plan.demands[1]!.group, 'db', 'xdist_group when no setting says otherwise');
  assert.deepEqual([plan.demands[2]!.cpus, plan.demands[2]!.exclusive, plan.demands[2]!.group], [2, true, 'mine']);
  assert.deepEqual(runCapacity(4 * G, 2, { gpu: 1 }), { memoryBytes: 4 * G, cpus: 2, resources: { gpu: 1, [SERIAL_TOKEN]: 1 } });
});

test('family: the test without its parameters', () => {
  assert.equal(familyOf('tests/t.py::test_big[seed3-x]'), 'tests/t.py::test_big');
  assert.equal(familyOf('tests/t.py::TestA::test_b'), 'tests/t.py::TestA::test_b');
});
