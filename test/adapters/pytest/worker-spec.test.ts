/**
 * workerLaunch: the command and environment of one pytest worker, and the run's decisions that
 * reach it through its environment (recycling, the memory rung's part the worker applies).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { THREAD_CAP_VARIABLES, workerLaunch, type WorkerLaunchOptions } from '../../../src/adapters/pytest/worker-spec.js';

function options(extra: Partial<WorkerLaunchOptions> = {}): WorkerLaunchOptions {
  return {
    interpreter: '/usr/bin/python3',
    pythonDir: '/pkg/python',
    frameworkArgs: ['-q', 'tests'],
    baseEnv: { PATH: '/usr/bin', HOME: '/home/u' },
    color: false,
    columns: 100,
    supervisorPid: 42,
    crashFile: '/tmp/crash-1',
    heartbeatSeconds: 1,
    ...extra,
  };
}

const CAPPED = [...THREAD_CAP_VARIABLES, 'TOKENIZERS_PARALLELISM'];

test('the worker is our launcher with our plugin and the pytest arguments unchanged', () => {
  const launch = workerLaunch(options());
  assert.equal(launch.command, '/usr/bin/python3');
  assert.deepEqual(launch.args, ['/pkg/python/bulkhead-worker.py', '-p', 'bulkhead_pytest.plugin', '-q', 'tests']);
  assert.equal(launch.env.PATH, '/usr/bin');
  assert.equal(launch.env.COLUMNS, '100');
  assert.equal(launch.env.BULKHEAD_CRASH_FILE, '/tmp/crash-1');
  assert.equal(launch.channelFdVariable, 'BULKHEAD_CHANNEL_FD');
});

test('without the new options nothing is capped and no start method is chosen', () => {
  for (const extra of [{}, { threadCap: null, mpStartMethod: null }]) {
    const env = workerLaunch(options(extra)).env;
    for (const name of [...CAPPED, 'BULKHEAD_MP_START_METHOD']) assert.equal(env[name], undefined, name);
  }
});

test('a thread cap sets every native thread pool and turns tokenizers parallelism off', () => {
  const env = workerLaunch(options({ threadCap: 2 })).env;
  assert.deepEqual(THREAD_CAP_VARIABLES, [
    'OMP_NUM_THREADS',
    'OPENBLAS_NUM_THREADS',
    'MKL_NUM_THREADS',
    'BLIS_NUM_THREADS',
    'VECLIB_MAXIMUM_THREADS',
    'NUMEXPR_NUM_THREADS',
    'NUMBA_NUM_THREADS',
  ]);
  for (const name of THREAD_CAP_VARIABLES) assert.equal(env[name], '2', name);
  assert.equal(env.TOKENIZERS_PARALLELISM, 'false');
});

test("a variable the user's environment sets is left as it is, even empty", () => {
  const baseEnv = { PATH: '/usr/bin', OMP_NUM_THREADS: '8', TOKENIZERS_PARALLELISM: 'true', MKL_NUM_THREADS: '' };
  const env = workerLaunch(options({ baseEnv, threadCap: 1 })).env;
  assert.equal(env.OMP_NUM_THREADS, '8');
  assert.equal(env.TOKENIZERS_PARALLELISM, 'true');
  assert.equal(env.MKL_NUM_THREADS, '');
  assert.equal(env.OPENBLAS_NUM_THREADS, '1');
  assert.equal(env.NUMBA_NUM_THREADS, '1');
});

test('a thread cap must be a positive integer', () => {
  for (const threadCap of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => workerLaunch(options({ threadCap })), /thread cap .*: must be an integer >= 1/);
  }
});

test('the multiprocessing start method reaches the launcher', () => {
  for (const method of ['fork', 'spawn', 'forkserver'] as const) {
    assert.equal(workerLaunch(options({ mpStartMethod: method })).env.BULKHEAD_MP_START_METHOD, method);
  }
});

test('a worker with an identity gets the variables xdist gives its workers, and the run seed', () => {
  const env = workerLaunch(options({ identity: { workerId: 'gw1', workerCount: 2, testRunUid: 'abc123', seed: 4242 } })).env;
  assert.equal(env.PYTEST_XDIST_WORKER, 'gw1');
  assert.equal(env.PYTEST_XDIST_WORKER_COUNT, '2');
  assert.equal(env.PYTEST_XDIST_TESTRUNUID, 'abc123');
  assert.equal(env.BULKHEAD_RUN_SEED, '4242');
});

test('a worker without an identity claims none, even one inherited from our own environment', () => {
  const inherited = { PATH: '/usr/bin', PYTEST_XDIST_WORKER: 'gw7', PYTEST_XDIST_WORKER_COUNT: '8', PYTEST_XDIST_TESTRUNUID: 'outer' };
  for (const identity of [undefined, null]) {
    const env = workerLaunch(options({ baseEnv: inherited, identity })).env;
    for (const name of ['PYTEST_XDIST_WORKER', 'PYTEST_XDIST_WORKER_COUNT', 'PYTEST_XDIST_TESTRUNUID', 'BULKHEAD_RUN_SEED']) {
      assert.equal(env[name], undefined, name);
    }
    assert.equal(env.PATH, '/usr/bin');
  }
  // Ours replace the inherited ones.
  const env = workerLaunch(options({ baseEnv: inherited, identity: { workerId: 'gw0', workerCount: 2, testRunUid: 'run', seed: 1 } })).env;
  assert.deepEqual([env.PYTEST_XDIST_WORKER, env.PYTEST_XDIST_WORKER_COUNT, env.PYTEST_XDIST_TESTRUNUID], ['gw0', '2', 'run']);
});

test('recycling and the memory limits the worker applies reach it through its environment', () => {
  const plain = workerLaunch(options()).env;
  for (const name of ['BULKHEAD_RECYCLE_BYTES', 'BULKHEAD_MEMORY_CGROUP', 'BULKHEAD_RLIMIT_DATA']) assert.equal(plain[name], undefined, name);
  assert.equal(workerLaunch(options({ recycleBytes: 1024 })).env.BULKHEAD_RECYCLE_BYTES, '1024');
  assert.equal(workerLaunch(options({ recycleBytes: null })).env.BULKHEAD_RECYCLE_BYTES, undefined);
  const leaf = workerLaunch(options({ memory: { cgroupPath: '/sys/fs/cgroup/memory/run/worker-1', dataLimitBytes: null } })).env;
  assert.equal(leaf.BULKHEAD_MEMORY_CGROUP, '/sys/fs/cgroup/memory/run/worker-1');
  assert.equal(leaf.BULKHEAD_RLIMIT_DATA, undefined);
  const rlimit = workerLaunch(options({ memory: { cgroupPath: null, dataLimitBytes: 2048 } })).env;
  assert.equal(rlimit.BULKHEAD_RLIMIT_DATA, '2048');
  assert.equal(rlimit.BULKHEAD_MEMORY_CGROUP, undefined);
});

test('a worker told which files to collect gets them as a JSON list; any other collects the suite', () => {
  const files = ['/site/numpy/_core/tests/test_shape_base.py', '/p/tests/a b:c.py'];
  assert.deepEqual(JSON.parse(workerLaunch(options({ collectOnly: files })).env.BULKHEAD_COLLECT_ONLY ?? ''), files);
  for (const collectOnly of [undefined, null]) assert.equal(workerLaunch(options({ collectOnly })).env.BULKHEAD_COLLECT_ONLY, undefined);
});
