/**
 * Fixture scopes across workers, on the `fixture-scopes` project: its session, module, class and
 * function fixtures log "setup <scope> <name> <pid>" / "teardown ..." and each test logs
 * "run <nodeid> <pid>" to a file. Each worker must set up a module, class or session fixture
 * exactly once if it ran tests that use it, tear it down exactly once, and pytest's nextitem logic
 * must hold: a module's fixtures are torn down before the next module's are set up.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixture, describeRun, runCli, runPytest, summaryLine, tempDir, type CliResult } from '../support/cli.js';

interface LogEvent {
  kind: 'setup' | 'teardown' | 'run';
  scope: string;
  name: string;
  pid: number;
}

function parseLog(text: string): LogEvent[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const words = line.split(' ');
      const pid = Number(words.pop());
      if (words[0] === 'run') return { kind: 'run', scope: 'test', name: words.slice(1).join(' '), pid };
      const [kind, scope, ...name] = words;
      assert.ok(kind === 'setup' || kind === 'teardown', `unexpected log line: ${line}`);
      return { kind, scope: scope!, name: name.join(' '), pid };
    });
}

/** The fixtures (scope, name) a test of the fixture project runs under. */
function fixturesOf(nodeid: string): string[] {
  const [file, ...rest] = nodeid.split('::');
  const module = file!.replace(/^tests\//, '').replace(/\.py$/, '');
  const wanted = ['session main', `module ${module}`];
  if (rest.length === 2) wanted.push(`class ${module}.${rest[0]}`);
  const name = rest[rest.length - 1]!;
  if (name.endsWith('_uses_lazy')) wanted.push('session lazy');
  if (name.endsWith('_plain_2') || name === 'test_b' && rest[0] === 'TestFirst') wanted.push(`function ${nodeid}`);
  return wanted;
}

/**
 * Checks the log of one run; returns the pids that ran tests. Every rule here holds for plain
 * pytest too (checked below), so a failure is bulkhead's.
 */
function checkLog(events: LogEvent[], testIds: readonly string[]): Set<number> {
  const pids = [...new Set(events.map((event) => event.pid))];
  const ranBy = new Map<string, number>();
  for (const event of events.filter((e) => e.kind === 'run')) {
    assert.ok(!ranBy.has(event.name), `${event.name} ran twice (pids ${ranBy.get(event.name)} and ${event.pid})`);
    ranBy.set(event.name, event.pid);
  }
  assert.deepEqual([...ranBy.keys()].sort(), [...testIds].sort(), 'every test ran exactly once');

  const functionSetups = new Map<string, number>();
  for (const pid of pids) {
    const mine = events.filter((event) => event.pid === pid);
    const active = new Set<string>();
    const setups = new Map<string, number>();
    const usedBy = new Map<string, number>(); // fixture key -> tests run under it in this pid
    for (const event of mine) {
      const key = `${event.scope} ${event.name}`;
      if (event.kind === 'setup') {
        assert.ok(!active.has(key), `pid ${pid}: ${key} set up twice without a teardown`);
        active.add(key);
        setups.set(key, (setups.get(key) ?? 0) + 1);
        if (event.scope === 'function') {
          assert.ok(!functionSetups.has(event.name), `function fixture of ${event.name} set up again in pid ${pid}`);
          functionSetups.set(event.name, pid);
        }
        // pytest's nextitem logic: the previous module's (and class's) fixtures are gone.
        if (event.scope === 'module' || event.scope === 'class') {
          const others = [...active].filter((k) => k.startsWith(`${event.scope} `) && k !== key);
          assert.deepEqual(others, [], `pid ${pid}: ${key} set up while ${others.join(', ')} still active`);
        }
      } else if (event.kind === 'teardown') {
        assert.ok(active.has(key), `pid ${pid}: ${key} torn down but not set up`);
        active.delete(key);
      } else {
        for (const fixture of fixturesOf(event.name)) {
          assert.ok(active.has(fixture), `pid ${pid}: ${event.name} ran without ${fixture} (active: ${[...active].join(', ')})`);
          usedBy.set(fixture, (usedBy.get(fixture) ?? 0) + 1);
        }
      }
    }
    assert.deepEqual([...active], [], `pid ${pid}: fixtures never torn down`);
    for (const [key, count] of setups) {
      if (key.startsWith('function ')) continue;
      assert.equal(count, 1, `pid ${pid}: ${key} set up ${count} times`);
      assert.ok((usedBy.get(key) ?? 0) > 0, `pid ${pid}: ${key} set up but no test of it ran there`);
    }
    for (const key of usedBy.keys()) assert.ok(setups.has(key), `pid ${pid}: tests used ${key}, never set up`);
  }
  return new Set(ranBy.values());
}

const project = copyFixture('fixture-scopes');
const logs = tempDir('fixture-log');
let bulk: CliResult;
let bulkLog: LogEvent[];

before(async () => {
  const logPath = join(logs.dir, 'bulkhead.log');
  bulk = await runCli({ cwd: project.dir, env: { BULKHEAD_E2E_FIXTURE_LOG: logPath } });
  bulkLog = parseLog(readFileSync(logPath, 'utf8'));
});

after(() => {
  project.cleanup();
  logs.cleanup();
});

test('all 44 tests pass, exit code 0', () => {
  assert.equal(bulk.code, 0, describeRun(bulk));
  assert.equal(summaryLine(bulk.stdout), '44 passed');
  assert.equal(bulk.json?.summary.passed, 44);
  assert.equal(bulk.json?.tests.length, 44);
});

test('the checker accepts plain pytest (one process) on the same project', async () => {
  const logPath = join(logs.dir, 'pytest.log');
  const plain = await runPytest({ cwd: project.dir, env: { BULKHEAD_E2E_FIXTURE_LOG: logPath } });
  assert.equal(plain.code, 0, describeRun(plain));
  const events = parseLog(readFileSync(logPath, 'utf8'));
  const pids = checkLog(events, bulk.json!.tests.map((t) => t.id));
  assert.equal(pids.size, 1);
  // In one process every module fixture is set up exactly once in all.
  assert.equal(events.filter((e) => e.kind === 'setup' && e.scope === 'module').length, 4);
});

test('both workers ran tests', () => {
  const pids = new Set(bulkLog.filter((event) => event.kind === 'run').map((event) => event.pid));
  assert.equal(pids.size, 2, `tests ran in pids ${[...pids].join(', ')}`);
  const workers = new Set(bulk.json!.tests.map((t) => t.worker));
  assert.deepEqual([...workers].sort(), [1, 2]);
});

test('each worker sets up and tears down each module/class/session fixture it used exactly once, in nextitem order', () => {
  checkLog(bulkLog, bulk.json!.tests.map((t) => t.id));
});

test('the session fixture is set up once in each worker, and only in workers', () => {
  const setups = bulkLog.filter((event) => event.kind === 'setup' && event.scope === 'session' && event.name === 'main');
  const teardowns = bulkLog.filter((event) => event.kind === 'teardown' && event.scope === 'session' && event.name === 'main');
  assert.equal(setups.length, 2);
  assert.deepEqual(teardowns.map((e) => e.pid).sort(), setups.map((e) => e.pid).sort());
  // The last thing each worker logs is the session teardown.
  for (const { pid } of setups) {
    const mine = bulkLog.filter((event) => event.pid === pid);
    assert.equal(`${mine.at(-1)!.kind} ${mine.at(-1)!.scope} ${mine.at(-1)!.name}`, 'teardown session main');
  }
});
