/**
 * checkDeadlines: which workers to kill, and why, and which are busy without a heartbeat, at a
 * given moment. Pure and table-driven.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDeadlines, type BusyWorker, type KillOrder, type WatchedWorker, type WatchdogLimits } from '../../src/core/watchdog.js';

const LIMITS: WatchdogLimits = { startupTimeoutSeconds: 10, heartbeatTimeoutSeconds: 3 };

/** A ready worker, started at 0 and ready at 1000 ms, running nothing. */
function worker(over: Partial<WatchedWorker> = {}): WatchedWorker {
  const base: WatchedWorker = { id: 1, ready: true, startedAt: 0, readyAt: 1000, lastHeartbeat: null, running: null, lastProgress: null, stopped: false, terminating: false, ...over };
  // The progress meter's windows are about a second long.
  return { ...base, lastProgressFrom: over.lastProgressFrom ?? (base.lastProgress === null ? null : base.lastProgress - 1000) };
}

function notReady(over: Partial<WatchedWorker> = {}): WatchedWorker {
  return worker({ ready: false, readyAt: null, ...over });
}

interface Case {
  name: string;
  workers: WatchedWorker[];
  now: number;
  limits?: WatchdogLimits;
  /** Expected orders; silentSeconds is compared rounded to ms. */
  orders: KillOrder[];
  /** Expected busy workers (silent, making progress); none when absent. */
  busy?: BusyWorker[];
}

const CASES: Case[] = [
  // -- startup ----------------------------------------------------------------------------------
  { name: 'not ready, within the startup limit', workers: [notReady()], now: 10_000, orders: [] },
  {
    name: 'not ready, past the startup limit',
    workers: [notReady()],
    now: 10_001,
    orders: [{ worker: 1, reason: { kind: 'startup_timeout', limitSeconds: 10 }, dumpStacks: true }],
  },
  {
    name: 'startup limit counts from the worker start',
    workers: [notReady({ startedAt: 5_000 })],
    now: 15_000,
    orders: [],
  },
  {
    name: 'ready worker long after the startup limit: no startup kill',
    workers: [worker({ lastHeartbeat: 99_000 })],
    now: 100_000,
    orders: [],
  },
  // -- no heartbeat deadline before ready -------------------------------------------------------
  {
    name: 'not ready and silent far past the heartbeat limit (slow imports): not unresponsive',
    workers: [notReady({ lastHeartbeat: null })],
    now: 9_999,
    orders: [],
  },
  {
    name: 'not ready, even with a stale `running` record: only the startup deadline applies',
    workers: [notReady({ running: { startedAt: 0, timeoutSeconds: 1 } })],
    now: 9_000,
    orders: [],
  },
  // -- idle ready workers ---------------------------------------------------------------------
  { name: 'ready and idle, silent for long: nothing (no test runs)', workers: [worker()], now: 1_000_000, orders: [] },
  // -- timeout ----------------------------------------------------------------------------------
  {
    name: 'running within its timeout, heartbeats fresh',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: 5 }, lastHeartbeat: 6_500 })],
    now: 7_000,
    orders: [],
  },
  {
    name: 'running past its timeout',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: 5 }, lastHeartbeat: 6_900 })],
    now: 7_001,
    orders: [{ worker: 1, reason: { kind: 'timeout', limitSeconds: 5 }, dumpStacks: true }],
  },
  {
    name: 'a null timeout never times out',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: null }, lastHeartbeat: 999_000 })],
    now: 1_000_000,
    orders: [],
  },
  {
    name: 'a zero timeout (pytest-timeout: disabled) never times out',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: 0 }, lastHeartbeat: 999_000 })],
    now: 1_000_000,
    orders: [],
  },
  // -- timeout vs unresponsive --------------------------------------------------------------------
  {
    name: 'past its timeout and silent too: timeout wins, one order',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: 5 }, lastHeartbeat: null })],
    now: 20_000,
    orders: [{ worker: 1, reason: { kind: 'timeout', limitSeconds: 5 }, dumpStacks: true }],
  },
  {
    name: 'silent, within its timeout: unresponsive',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: 60 }, lastHeartbeat: 2_500 })],
    now: 6_000,
    orders: [{ worker: 1, reason: { kind: 'unresponsive', silentSeconds: 3.5, stopped: false }, dumpStacks: true }],
  },
  // -- silence counts from the latest sign of life --------------------------------------------
  {
    name: 'silence from the latest heartbeat (heartbeat newest)',
    workers: [worker({ readyAt: 1_000, lastHeartbeat: 8_000, running: { startedAt: 4_000, timeoutSeconds: null } })],
    now: 11_000,
    orders: [],
  },
  {
    name: 'silence from the latest heartbeat, just past',
    workers: [worker({ readyAt: 1_000, lastHeartbeat: 8_000, running: { startedAt: 4_000, timeoutSeconds: null } })],
    now: 11_001,
    orders: [{ worker: 1, reason: { kind: 'unresponsive', silentSeconds: 3.001, stopped: false }, dumpStacks: true }],
  },
  {
    name: 'silence from the test start (an old heartbeat from before the test)',
    workers: [worker({ readyAt: 1_000, lastHeartbeat: 1_500, running: { startedAt: 9_000, timeoutSeconds: null } })],
    now: 12_000,
    orders: [],
  },
  {
    name: 'silence from the test start, just past',
    workers: [worker({ readyAt: 1_000, lastHeartbeat: 1_500, running: { startedAt: 9_000, timeoutSeconds: null } })],
    now: 12_500,
    orders: [{ worker: 1, reason: { kind: 'unresponsive', silentSeconds: 3.5, stopped: false }, dumpStacks: true }],
  },
  {
    name: 'silence from ready (no heartbeat yet, the test started before ready was recorded)',
    workers: [worker({ readyAt: 20_000, lastHeartbeat: null, running: { startedAt: 19_000, timeoutSeconds: null } })],
    now: 22_900,
    orders: [],
  },
  {
    name: 'silence from ready, just past',
    workers: [worker({ readyAt: 20_000, lastHeartbeat: null, running: { startedAt: 19_000, timeoutSeconds: null } })],
    now: 23_100,
    orders: [{ worker: 1, reason: { kind: 'unresponsive', silentSeconds: 3.1, stopped: false }, dumpStacks: true }],
  },
  // -- terminating workers ------------------------------------------------------------------
  {
    name: 'terminating workers are skipped (each deadline)',
    workers: [
      notReady({ id: 1, terminating: true }),
      worker({ id: 2, terminating: true, running: { startedAt: 0, timeoutSeconds: 1 } }),
      worker({ id: 3, terminating: true, running: { startedAt: 0, timeoutSeconds: null } }),
    ],
    now: 100_000,
    orders: [],
  },
  // -- several workers ------------------------------------------------------------------------
  {
    name: 'one order per worker, in worker order, each with its own reason',
    workers: [
      notReady({ id: 4 }),
      worker({ id: 5, running: { startedAt: 0, timeoutSeconds: 2 }, lastHeartbeat: 49_999 }),
      worker({ id: 6, running: { startedAt: 48_000, timeoutSeconds: null }, lastHeartbeat: 48_000 }),
      worker({ id: 7, running: { startedAt: 48_000, timeoutSeconds: null }, lastHeartbeat: 49_000 }),
    ],
    now: 52_000,
    orders: [
      { worker: 4, reason: { kind: 'startup_timeout', limitSeconds: 10 }, dumpStacks: true },
      { worker: 5, reason: { kind: 'timeout', limitSeconds: 2 }, dumpStacks: true },
      { worker: 6, reason: { kind: 'unresponsive', silentSeconds: 4, stopped: false }, dumpStacks: true },
    ],
  },
  {
    name: 'limits come from the argument',
    workers: [notReady()],
    now: 2_000,
    limits: { startupTimeoutSeconds: 1.5, heartbeatTimeoutSeconds: 100 },
    orders: [{ worker: 1, reason: { kind: 'startup_timeout', limitSeconds: 1.5 }, dumpStacks: true }],
  },
  // -- busy is not hung: silent, but its CPU time keeps growing --------------------------------
  {
    name: 'silent past the limit, CPU time gained a moment ago: busy, not killed',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: null }, lastHeartbeat: 2_000, lastProgress: 9_800 })],
    now: 10_000,
    orders: [],
    busy: [{ worker: 1, silentSeconds: 8 }],
  },
  {
    name: 'busy for minutes without a heartbeat: still busy (only a timeout may end it)',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: null }, lastHeartbeat: 2_000, lastProgress: 599_900 })],
    now: 600_000,
    orders: [],
    busy: [{ worker: 1, silentSeconds: 598 }],
  },
  {
    name: 'busy, then its own timeout passes: the timeout decides',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: 20 }, lastHeartbeat: 2_000, lastProgress: 22_000 })],
    now: 22_100,
    orders: [{ worker: 1, reason: { kind: 'timeout', limitSeconds: 20 }, dumpStacks: true }],
  },
  {
    name: 'computed for a while, then no CPU time for longer than the limit (a deadlock): unresponsive',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: null }, lastHeartbeat: 2_000, lastProgress: 6_000 })],
    now: 9_100,
    orders: [{ worker: 1, reason: { kind: 'unresponsive', silentSeconds: 7.1, stopped: false }, dumpStacks: true }],
  },
  {
    name: 'computed a moment ago, none since: still busy',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: null }, lastHeartbeat: 2_000, lastProgress: 6_000 })],
    now: 8_400,
    orders: [],
    busy: [{ worker: 1, silentSeconds: 6.4 }],
  },
  {
    name: 'computed a while ago, no CPU time since, but not yet for the limit: neither busy nor hung',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: null }, lastHeartbeat: 2_000, lastProgress: 6_000 })],
    now: 8_900,
    orders: [],
  },
  {
    name: 'a deadlock right after the test started: its start-up CPU does not make it look busy',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: null }, lastHeartbeat: 2_000, lastProgress: 2_600 })],
    now: 5_200,
    orders: [],
  },
  {
    name: 'stopped (SIGSTOP), silent past the limit: unresponsive at once, whatever its CPU time did before',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: null }, lastHeartbeat: 2_000, lastProgress: 4_900, stopped: true })],
    now: 5_100,
    orders: [{ worker: 1, reason: { kind: 'unresponsive', silentSeconds: 3.1, stopped: true }, dumpStacks: true }],
  },
  {
    name: 'stopped, but its heartbeat is within the limit: nothing yet',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: null }, lastHeartbeat: 4_000, stopped: true })],
    now: 6_000,
    orders: [],
  },
  {
    name: 'a deadlock just after the test began: the only progress window reaches back before the silence, so not busy',
    workers: [worker({ running: { startedAt: 2_000, timeoutSeconds: null }, lastHeartbeat: 2_000, lastProgress: 3_100, lastProgressFrom: 1_900 })],
    now: 5_100,
    orders: [],
  },
  {
    name: 'progress from before the test started does not count for it',
    workers: [worker({ running: { startedAt: 5_000, timeoutSeconds: null }, lastHeartbeat: 1_000, lastProgress: 4_000 })],
    now: 8_100,
    orders: [{ worker: 1, reason: { kind: 'unresponsive', silentSeconds: 3.1, stopped: false }, dumpStacks: true }],
  },
];

function rounded(orders: KillOrder[]): KillOrder[] {
  return orders.map((order) =>
    order.reason.kind === 'unresponsive'
      ? { ...order, reason: { ...order.reason, silentSeconds: Math.round(order.reason.silentSeconds * 1000) / 1000 } }
      : order,
  );
}

for (const c of CASES) {
  test(`checkDeadlines: ${c.name}`, () => {
    const verdicts = checkDeadlines(c.workers, c.now, c.limits ?? LIMITS);
    assert.deepEqual(rounded(verdicts.kills), c.orders);
    assert.deepEqual(verdicts.busy.map((b) => ({ ...b, silentSeconds: Math.round(b.silentSeconds * 1000) / 1000 })), c.busy ?? []);
  });
}

test('checkDeadlines: a slow start is never unresponsive, at any moment before the startup limit', () => {
  // Heartbeats are irrelevant before ready: whatever they say, the only possible order is startup.
  for (let now = 0; now <= 30_000; now += 250) {
    for (const lastHeartbeat of [null, 0, 100]) {
      const orders = checkDeadlines([notReady({ lastHeartbeat })], now, LIMITS).kills;
      const expected = now > 10_000 ? ['startup_timeout'] : [];
      assert.deepEqual(orders.map((o) => o.reason.kind), expected, `now ${now}, heartbeat ${lastHeartbeat}`);
    }
  }
});
