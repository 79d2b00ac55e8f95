/**
 * What a worker process is started with, seen from inside a test of `test/fixtures/scheduling`:
 *
 * - the multiprocessing start method from the config (`mp-start-method = "forkserver"`), under
 *   which a ProcessPoolExecutor started while a background thread holds a lock works; the CLI's
 *   `--mp-start-method` beats the config;
 * - thread caps: OMP_NUM_THREADS and the other native thread-pool variables set to the worker's
 *   share of the CPUs (and TOKENIZERS_PARALLELISM=false), except a variable the user set, which
 *   keeps the user's value; none of them with `--no-thread-caps`.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { copyFixture, describeRun } from '../support/cli.js';
import { runScheduled, type ScheduledRun } from '../support/scheduling-run.js';
import { describeSpans } from '../support/spans.js';

const project = copyFixture('scheduling');
after(() => project.cleanup());

const CAPPED = ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'BLIS_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS', 'NUMEXPR_NUM_THREADS', 'NUMBA_NUM_THREADS'];
const ALL = [...CAPPED, 'TOKENIZERS_PARALLELISM'];
/** None of the variables set by the machine running the tests. */
const CLEAN_ENV = Object.fromEntries(ALL.map((name) => [name, undefined]));
const MP_TEST = 'tests/test_mp.py::test_process_pool_with_a_background_thread';
const ENV_TEST = 'tests/test_env.py::test_thread_caps';

function noted(run: ScheduledRun, testId: string, note: string): Record<string, unknown> {
  const span = run.spans.find((entry) => entry.id === testId);
  const values = span?.notes.get(note);
  assert.ok(values, `${testId} noted no ${note}:\n${describeSpans(run.spans)}`);
  return values;
}

function assertPassed(run: ScheduledRun): void {
  assert.equal(run.result.code, 0, describeRun(run.result));
  assert.deepEqual(run.result.leftovers, []);
  for (const id of [MP_TEST, ENV_TEST]) assert.equal(run.tests.get(id)?.outcome, 'passed', `${id}\n${describeRun(run.result)}`);
  // The pool's processes (and the forkserver) are multiprocessing's own: none is left behind.
  assert.deepEqual((run.tests.get(MP_TEST) as unknown as { leaked: unknown[] }).leaked, []);
}

test('mp-start-method = "forkserver" (config): a process pool beside a running thread works; thread caps are the worker\'s CPU share', async () => {
  const workers = 2;
  const run = await runScheduled({
    cwd: project.dir,
    workers,
    pytestArgs: ['tests/test_mp.py', 'tests/test_env.py'],
    env: { ...CLEAN_ENV, SCHED_EXPECT_START_METHOD: 'forkserver' },
  });
  assertPassed(run);
  assert.equal(noted(run, MP_TEST, 'mp').method, 'forkserver');
  const share = String(Math.max(1, Math.floor(availableParallelism() / workers)));
  const expected = { ...Object.fromEntries(CAPPED.map((name) => [name, share])), TOKENIZERS_PARALLELISM: 'false' };
  assert.deepEqual(noted(run, ENV_TEST, 'env').env, expected);
});

test('a thread-cap variable the user set keeps its value; the others are capped', async () => {
  const run = await runScheduled({
    cwd: project.dir,
    workers: 3,
    pytestArgs: ['tests/test_mp.py', 'tests/test_env.py'],
    env: { ...CLEAN_ENV, OMP_NUM_THREADS: '7', TOKENIZERS_PARALLELISM: 'true' },
  });
  assertPassed(run);
  const share = String(Math.max(1, Math.floor(availableParallelism() / 3)));
  const env = noted(run, ENV_TEST, 'env').env as Record<string, string | null>;
  assert.equal(env.OMP_NUM_THREADS, '7');
  assert.equal(env.TOKENIZERS_PARALLELISM, 'true');
  for (const name of CAPPED.filter((name) => name !== 'OMP_NUM_THREADS')) assert.equal(env[name], share, name);
});

test('--mp-start-method spawn beats the config; --no-thread-caps sets none of the variables', async () => {
  const run = await runScheduled({
    cwd: project.dir,
    workers: 2,
    pytestArgs: ['tests/test_mp.py', 'tests/test_env.py'],
    options: ['--mp-start-method', 'spawn', '--no-thread-caps'],
    env: { ...CLEAN_ENV, SCHED_EXPECT_START_METHOD: 'spawn' },
  });
  assertPassed(run);
  assert.equal(noted(run, MP_TEST, 'mp').method, 'spawn');
  assert.deepEqual(noted(run, ENV_TEST, 'env').env, Object.fromEntries(ALL.map((name) => [name, null])));
});
