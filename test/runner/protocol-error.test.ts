/**
 * A worker that reports a protocol error (a command it could not read, python/bulkhead_pytest/
 * commands.py) is ended by the run loop with the cause `protocol_violation` and the worker's own
 * words; the test it was running is blamed (not retried: a broken channel is no test's fault to
 * re-check), and the rest of the suite runs on in a replacement worker.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunEventBody } from '../../src/model/event.js';
import { cleanUpRuns, project, runLoop } from './run-shell-harness.js';

after(cleanUpRuns);

// The test plays the command reader: it sends what the reader sends when a command does not read.
const SENDS_PROTOCOL_ERROR = `
import time

from bulkhead_pytest.protocol import ProtocolError, protocol_error


def test_0_reports_a_protocol_error(pytestconfig):
    session = pytestconfig.pluginmanager.get_plugin("bulkhead-worker")
    line = b'{"type":"run","indices":[0,-1]}'
    session.channel.send(protocol_error(ProtocolError("indices.1", "expected an integer >= 0, got -1"), line))
    time.sleep(20)


def test_1_fine():
    pass
`;

test('protocol_error: the worker is ended as a protocol violation with its detail, its test blamed once', async () => {
  const root = project({ 'pytest.ini': '[pytest]\ntestpaths = tests\n', 'tests/test_p.py': SENDS_PROTOCOL_ERROR });
  const { events, exitCode } = await runLoop(root, { workers: 1, retries: 1 });
  assert.equal(exitCode, 1);
  const crashed = events.filter((e): e is Extract<RunEventBody, { type: 'test_crashed' }> => e.type === 'test_crashed');
  assert.equal(crashed.length, 1);
  assert.equal(crashed[0]!.testId, 'tests/test_p.py::test_0_reports_a_protocol_error');
  assert.deepEqual(crashed[0]!.crash.cause, {
    kind: 'protocol_violation',
    detail: 'it rejected a command (indices.1: expected an integer >= 0, got -1): {"type":"run","indices":[0,-1]}',
  });
  assert.equal(crashed[0]!.willRetry, false);
  const finished = new Map(
    events.filter((e): e is Extract<RunEventBody, { type: 'test_finished' }> => e.type === 'test_finished').map((e) => [e.testId, e.outcome.kind]),
  );
  assert.deepEqual(Object.fromEntries(finished), {
    'tests/test_p.py::test_0_reports_a_protocol_error': 'crashed',
    'tests/test_p.py::test_1_fine': 'passed',
  });
});
