/**
 * Staged kills carried out by the run loop on real pytest workers: a test past its timeout has its
 * Python stacks dumped before the kill, and a worker stuck before it is ready is killed with its
 * stacks too (the watchdog asks for a dump on a startup timeout).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { RunEventBody } from '../../src/model/event.js';
import { DEFAULT_RESTART_POLICY } from '../../src/scheduler/restart-policy.js';
import { readCrashStacks } from '../../src/supervisor/crash-file.js';
import { cleanUpRuns, project, runLoop } from './run-shell-harness.js';

after(cleanUpRuns);

test('timeout: the test past its limit is killed after its stacks are dumped; the cause is timeout', async () => {
  const root = project({
    'pytest.ini': '[pytest]\ntestpaths = tests\n',
    'tests/test_a.py': 'import time\n\n\ndef test_fine():\n    pass\n\n\ndef test_sleeps_past_its_timeout():\n    time.sleep(30)\n',
  });
  const { events, exitCode } = await runLoop(root, { workers: 1, timeoutSeconds: 1, retries: 0 });
  assert.equal(exitCode, 1);
  const crashed = events.find((e): e is Extract<RunEventBody, { type: 'test_crashed' }> => e.type === 'test_crashed');
  assert.ok(crashed);
  assert.equal(crashed.testId, 'tests/test_a.py::test_sleeps_past_its_timeout');
  assert.deepEqual(crashed.crash.cause, { kind: 'timeout', limitSeconds: 1 });
  assert.match(crashed.crash.stacks, /test_sleeps_past_its_timeout/, 'the stacks were dumped before the kill');
  const states = events.filter((e) => e.type === 'worker_state').map((e) => (e.type === 'worker_state' ? e.to : ''));
  assert.deepEqual(states, ['collecting', 'ready', 'finishing', 'exited']);
});

test('startup timeout: a worker stuck importing a conftest has its stacks dumped before the kill', async () => {
  // The watchdog orders a stacks dump (SIGUSR1) for a startup timeout. faulthandler must be
  // listening for SIGUSR1 by then: SIGUSR1's default action kills the process, with no dump.
  const root = project({
    'pytest.ini': '[pytest]\ntestpaths = tests\n',
    'tests/conftest.py': 'import time\n\n\ndef stuck_importing_conftest():\n    time.sleep(30)\n\n\nstuck_importing_conftest()\n',
    'tests/test_a.py': 'def test_fine():\n    pass\n',
  });
  const { events, exitCode, scratchDir } = await runLoop(root, {
    workers: 1,
    // Long enough for a loaded machine to get Python as far as faulthandler (a SIGUSR1 sooner
    // would kill it with no dump); the conftest sleeps far longer.
    startupTimeoutSeconds: 3,
    restart: { ...DEFAULT_RESTART_POLICY, crashLoopLimit: 1 },
  });
  assert.equal(exitCode, 3, 'aborted: the only worker never got ready');
  const exited = events.find((e): e is Extract<RunEventBody, { type: 'worker_exited' }> => e.type === 'worker_exited');
  assert.ok(exited);
  assert.equal(exited.cause.kind, 'startup_failure');
  assert.equal(exited.cause.kind === 'startup_failure' ? exited.cause.detail : null, 'not ready after 3s');
  const stacks = readCrashStacks(join(scratchDir, `worker-${exited.worker}.crash`));
  assert.match(stacks, /stuck_importing_conftest/, `crash file: ${JSON.stringify(stacks)}; exit ${JSON.stringify(exited.cause)}`);
  assert.notEqual(exited.cause.kind === 'startup_failure' ? exited.cause.signal : null, 'SIGUSR1', 'killed by the stacks request itself');
});

test('a test woken by the stacks signal, passing within the kill window, is still a timeout; its successor is not blamed', async () => {
  // pytest's own faulthandler_timeout keeps faulthandler's watchdog for itself, so the stacks are
  // asked for with SIGUSR1, which cuts the sleep in C short: the test returns and reports a pass
  // before the kill lands. The verdict was in before: timeout. The next test it went on to start
  // is not the one blamed; it runs again in a fresh worker.
  const root = project({
    'pytest.ini': '[pytest]\ntestpaths = tests\nfaulthandler_timeout = 100\n',
    'tests/test_a.py': [
      'import ctypes, ctypes.util',
      'LIBC = ctypes.PyDLL(ctypes.util.find_library("c"))',
      '',
      'def test_sleeps_in_c_past_its_timeout():',
      '    LIBC.sleep(20)',
      '',
      'def test_after():',
      '    pass',
      '',
    ].join('\n'),
  });
  const { events, exitCode } = await runLoop(root, { workers: 1, timeoutSeconds: 1, retries: 0, killGraceSeconds: 3 });
  assert.equal(exitCode, 1);
  const finished = new Map(
    events.filter((e): e is Extract<RunEventBody, { type: 'test_finished' }> => e.type === 'test_finished').map((e) => [e.testId, e.outcome]),
  );
  const slept = finished.get('tests/test_a.py::test_sleeps_in_c_past_its_timeout');
  assert.equal(slept?.kind, 'crashed', JSON.stringify(slept));
  assert.deepEqual(slept?.kind === 'crashed' ? slept.crash.cause : null, { kind: 'timeout', limitSeconds: 1 });
  assert.deepEqual(finished.get('tests/test_a.py::test_after'), { kind: 'passed' });
});
