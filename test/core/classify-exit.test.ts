/**
 * classifyExit: one worker exit -> one cause. Table-driven, pure: no processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blamesTest, describeCause, type ExitCause, type KillReason } from '../../src/model/cause.js';
import { classifyExit, type ExitFacts } from '../../src/core/classify-exit.js';

/** A worker that was ready, ran, and was not killed by us: only the exit itself is filled in. */
function facts(over: Partial<ExitFacts>): ExitFacts {
  return { code: null, signal: null, killReason: null, spawnError: null, sessionDone: false, wasReady: true, oom: null, ...over };
}

interface Case {
  name: string;
  facts: ExitFacts;
  cause: ExitCause;
}

const CASES: Case[] = [
  // -- deaths we did not cause, after the worker was ready ----------------------------------------
  { name: 'SIGSEGV while running', facts: facts({ signal: 'SIGSEGV' }), cause: { kind: 'signal', signal: 'SIGSEGV' } },
  { name: 'SIGABRT while running', facts: facts({ signal: 'SIGABRT' }), cause: { kind: 'signal', signal: 'SIGABRT' } },
  { name: 'SIGKILL from outside (not our kill)', facts: facts({ signal: 'SIGKILL' }), cause: { kind: 'signal', signal: 'SIGKILL' } },
  { name: 'os._exit(3)', facts: facts({ code: 3 }), cause: { kind: 'exit_code', code: 3 } },
  { name: 'exit code 0 without `done` is not a clean end', facts: facts({ code: 0 }), cause: { kind: 'exit_code', code: 0 } },
  { name: 'no code and no signal: -1', facts: facts({}), cause: { kind: 'exit_code', code: -1 } },
  // -- a normal end of session ------------------------------------------------------------------
  { name: 'done, code 0', facts: facts({ code: 0, sessionDone: true }), cause: { kind: 'finished' } },
  { name: 'done, code 1 (tests failed)', facts: facts({ code: 1, sessionDone: true }), cause: { kind: 'finished' } },
  {
    name: 'done, then killed by a signal (a segfault in atexit) is not finished',
    facts: facts({ signal: 'SIGSEGV', sessionDone: true }),
    cause: { kind: 'signal', signal: 'SIGSEGV' },
  },
  // -- deaths before ready --------------------------------------------------------------------
  {
    name: 'exit code before ready',
    facts: facts({ code: 2, wasReady: false }),
    cause: { kind: 'startup_failure', code: 2, signal: null, detail: null },
  },
  {
    name: 'signal before ready',
    facts: facts({ signal: 'SIGSEGV', wasReady: false }),
    cause: { kind: 'startup_failure', code: null, signal: 'SIGSEGV', detail: null },
  },
  {
    name: 'pytest usage error (4) before ready',
    facts: facts({ code: 4, wasReady: false }),
    cause: { kind: 'startup_failure', code: 4, signal: null, detail: null },
  },
  // -- spawn errors ---------------------------------------------------------------------------
  {
    name: 'spawn error (ENOENT)',
    facts: facts({ spawnError: 'ENOENT spawn nope ENOENT', wasReady: false }),
    cause: { kind: 'startup_failure', code: null, signal: null, detail: 'ENOENT spawn nope ENOENT' },
  },
  {
    name: 'spawn error wins over the exit that follows it',
    facts: facts({ spawnError: 'EACCES', code: -2, signal: 'SIGKILL', wasReady: false }),
    cause: { kind: 'startup_failure', code: null, signal: null, detail: 'EACCES' },
  },
  // -- OOM evidence ---------------------------------------------------------------------------
  {
    name: 'OOM evidence with a SIGKILL',
    facts: facts({ signal: 'SIGKILL', oom: { limitBytes: 1024, peakBytes: 2048 } }),
    cause: { kind: 'oom', limitBytes: 1024, peakBytes: 2048 },
  },
  {
    name: 'OOM evidence without numbers',
    facts: facts({ signal: 'SIGKILL', oom: { limitBytes: null, peakBytes: null } }),
    cause: { kind: 'oom', limitBytes: null, peakBytes: null },
  },
  {
    name: 'OOM evidence wins over "done" (killed in session teardown)',
    facts: facts({ signal: 'SIGKILL', sessionDone: true, oom: { limitBytes: null, peakBytes: 5 } }),
    cause: { kind: 'oom', limitBytes: null, peakBytes: 5 },
  },
  // -- every KillReason: our reason wins over what the exit looks like ---------------------------
  {
    name: 'kill: timeout (arrives as SIGKILL)',
    facts: facts({ signal: 'SIGKILL', killReason: { kind: 'timeout', limitSeconds: 7 } }),
    cause: { kind: 'timeout', limitSeconds: 7 },
  },
  {
    name: 'kill: timeout (died of the SIGTERM)',
    facts: facts({ signal: 'SIGTERM', killReason: { kind: 'timeout', limitSeconds: 0.5 } }),
    cause: { kind: 'timeout', limitSeconds: 0.5 },
  },
  {
    name: 'kill: timeout while waiting for a lock keeps which lock and its holders',
    facts: facts({ signal: 'SIGKILL', killReason: { kind: 'timeout', limitSeconds: 2, waitingFor: [{ name: 'model-init', heldBy: [3] }] } }),
    cause: { kind: 'timeout', limitSeconds: 2, waitingFor: [{ name: 'model-init', heldBy: [3] }] },
  },
  {
    name: 'kill: unresponsive',
    facts: facts({ signal: 'SIGKILL', killReason: { kind: 'unresponsive', silentSeconds: 31.5 } }),
    cause: { kind: 'unresponsive', silentSeconds: 31.5 },
  },
  {
    name: 'kill: startup timeout keeps the exit facts',
    facts: facts({ signal: 'SIGTERM', wasReady: false, killReason: { kind: 'startup_timeout', limitSeconds: 600 } }),
    cause: { kind: 'startup_failure', code: null, signal: 'SIGTERM', detail: 'not ready after 600s' },
  },
  {
    name: 'kill: protocol violation',
    facts: facts({ code: 0, killReason: { kind: 'protocol_violation', detail: 'bad json' } }),
    cause: { kind: 'protocol_violation', detail: 'bad json' },
  },
  {
    name: 'kill: interrupted',
    facts: facts({ signal: 'SIGTERM', killReason: { kind: 'interrupted', detail: 'KeyboardInterrupt (SIGINT)' } }),
    cause: { kind: 'interrupted', detail: 'KeyboardInterrupt (SIGINT)' },
  },
  {
    name: 'kill: memory pressure',
    facts: facts({ signal: 'SIGKILL', killReason: { kind: 'memory_pressure' } }),
    cause: { kind: 'memory_pressure' },
  },
  {
    name: 'kill: shutdown of a worker that had not finished',
    facts: facts({ signal: 'SIGTERM', killReason: { kind: 'shutdown', detail: 'run stopped: maxfail' } }),
    cause: { kind: 'stopped', reason: 'run stopped: maxfail' },
  },
  {
    name: 'kill: shutdown of a worker whose session was done',
    facts: facts({ signal: 'SIGKILL', sessionDone: true, killReason: { kind: 'shutdown', detail: 'suite done' } }),
    cause: { kind: 'finished' },
  },
  {
    name: 'kill: a kill reason wins over OOM evidence and a spawn error',
    facts: facts({ signal: 'SIGKILL', spawnError: 'x', oom: { limitBytes: 1, peakBytes: 1 }, killReason: { kind: 'timeout', limitSeconds: 3 } }),
    cause: { kind: 'timeout', limitSeconds: 3 },
  },
];

for (const c of CASES) {
  test(`classifyExit: ${c.name}`, () => {
    assert.deepEqual(classifyExit(c.facts), c.cause);
  });
}

test('classifyExit: the table covers every KillReason kind', () => {
  const kinds = new Set(CASES.map((c) => c.facts.killReason?.kind).filter((k) => k !== undefined));
  const all: KillReason['kind'][] = ['timeout', 'unresponsive', 'startup_timeout', 'protocol_violation', 'interrupted', 'memory_pressure', 'shutdown'];
  assert.deepEqual([...kinds].sort(), [...all].sort());
});

test('classifyExit: a death we caused at shutdown is never a crash, whatever the exit looks like', () => {
  const exits: Array<Pick<ExitFacts, 'code' | 'signal'>> = [
    { code: null, signal: 'SIGKILL' },
    { code: null, signal: 'SIGTERM' },
    { code: null, signal: 'SIGSEGV' },
    { code: 1, signal: null },
    { code: 0, signal: null },
    { code: 137, signal: null },
    { code: null, signal: null },
  ];
  for (const exit of exits) {
    for (const sessionDone of [false, true]) {
      for (const wasReady of [false, true]) {
        for (const oom of [null, { limitBytes: null, peakBytes: null }]) {
          const label = JSON.stringify({ exit, sessionDone, wasReady, oom });
          const cause = classifyExit(facts({ ...exit, sessionDone, wasReady, oom, killReason: { kind: 'shutdown', detail: 'end' } }));
          assert.ok(cause.kind === 'finished' || cause.kind === 'stopped', `${label}: ${cause.kind}`);
          assert.equal(blamesTest(cause), false, `${label}: blames the test`);
        }
      }
    }
  }
});

test('classifyExit: an interrupt or memory-pressure kill never blames the test; a timeout does', () => {
  const neverBlamed: KillReason[] = [
    { kind: 'interrupted', detail: 'ctrl-c' },
    { kind: 'memory_pressure' },
    { kind: 'startup_timeout', limitSeconds: 1 },
  ];
  for (const killReason of neverBlamed) {
    assert.equal(blamesTest(classifyExit(facts({ signal: 'SIGKILL', killReason }))), false, killReason.kind);
  }
  const blamed: KillReason[] = [
    { kind: 'timeout', limitSeconds: 1 },
    { kind: 'unresponsive', silentSeconds: 1 },
    { kind: 'protocol_violation', detail: 'x' },
  ];
  for (const killReason of blamed) {
    assert.equal(blamesTest(classifyExit(facts({ signal: 'SIGKILL', killReason }))), true, killReason.kind);
  }
  // And a death of its own, once ready, is the running test's.
  assert.equal(blamesTest(classifyExit(facts({ signal: 'SIGSEGV' }))), true);
  assert.equal(blamesTest(classifyExit(facts({ code: 3 }))), true);
  assert.equal(blamesTest(classifyExit(facts({ code: 3, wasReady: false }))), false, 'a startup failure blames no test');
});

test('describeCause: a timeout spent waiting for a lock names the lock and its holders', () => {
  assert.equal(describeCause({ kind: 'timeout', limitSeconds: 2 }), 'was killed after the test passed its timeout of 2s');
  assert.equal(
    describeCause({ kind: 'timeout', limitSeconds: 2, waitingFor: [{ name: 'model-init', heldBy: [3] }] }),
    "was killed after the test passed its timeout of 2s (waiting for lock 'model-init', held by worker 3)",
  );
  assert.equal(
    describeCause({ kind: 'timeout', limitSeconds: 1, waitingFor: [{ name: 'a', heldBy: [1, 2] }, { name: 'b', heldBy: [] }] }),
    "was killed after the test passed its timeout of 1s (waiting for lock 'a', held by workers 1, 2; lock 'b')",
  );
});
