/**
 * Run cgroups a dead bulkhead left behind are swept at the next run's start (real cgroups, v2
 * and v1 memory, where this machine has them); a live run's are not.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { CgroupTree, MemoryCgroupTree } from '../../src/supervisor/platform/index.js';

/** A pid no process has: past the kernel's pid_max. */
const DEAD_PID = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;

function check(t: TestContext, make: (name: string) => { root: string; remove(): void } | null, what: string): void {
  const probe = make(`bulkhead-${process.pid}-probe`);
  if (probe === null) {
    t.skip(`no writable ${what} hierarchy on this machine`);
    return;
  }
  const parent = join(probe.root, '..');
  probe.remove();
  const stale = join(parent, `bulkhead-${DEAD_PID}-1`);
  const live = join(parent, `bulkhead-${process.pid}-2`);
  mkdirSync(stale);
  mkdirSync(join(stale, 'worker-1'));
  mkdirSync(live);
  try {
    const tree = make(`bulkhead-${process.pid}-3`);
    assert.ok(tree);
    tree.remove();
    assert.equal(existsSync(stale), false, 'the dead run\'s cgroup and its leaf are gone');
    assert.equal(existsSync(live), true, 'a live run\'s cgroup stays');
  } finally {
    if (existsSync(join(stale, 'worker-1'))) rmdirSync(join(stale, 'worker-1'));
    if (existsSync(stale)) rmdirSync(stale);
    rmdirSync(live);
  }
}

test('cgroup v2: a dead run\'s cgroup is swept when a run starts', (t) => {
  check(t, (name) => CgroupTree.create(name), 'cgroup v2');
});

test('cgroup v1 memory: a dead run\'s cgroup is swept when a run starts', (t) => {
  check(t, (name) => MemoryCgroupTree.create(name, null), 'cgroup v1 memory');
});
