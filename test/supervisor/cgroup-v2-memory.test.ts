/**
 * The cgroup v2 memory rung. This machine's v2 hierarchy has no controllers, so the rung is
 * exercised on a folder shaped like cgroupfs (the files the kernel would show), and on the real
 * hierarchy only its refusal is checked: bulkhead falls to the v1 rung there.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { enableMemoryController, V2MemoryLeaf, v2RunPeak } from '../../src/supervisor/platform/cgroup-v2-memory.js';
import { CgroupTree } from '../../src/supervisor/platform/index.js';

const GiB = 1024 ** 3;

function fakeHierarchy(controllers: string): { parent: string; root: string; cleanup(): void } {
  const parent = mkdtempSync(join(tmpdir(), 'bulkhead-cgv2-'));
  writeFileSync(join(parent, 'cgroup.controllers'), `${controllers}\n`);
  writeFileSync(join(parent, 'cgroup.subtree_control'), '\n');
  const root = join(parent, 'bulkhead-1-1');
  mkdirSync(root);
  return { parent, root, cleanup: () => rmSync(parent, { recursive: true, force: true }) };
}

test('enabled where the parent has the memory controller: parent and run hand it down, run capped at the budget', () => {
  const fake = fakeHierarchy('cpu memory pids');
  try {
    assert.equal(enableMemoryController(fake.parent, fake.root, 4 * GiB), true);
    assert.equal(readFileSync(join(fake.parent, 'cgroup.subtree_control'), 'utf8'), '+memory');
    assert.equal(readFileSync(join(fake.root, 'cgroup.subtree_control'), 'utf8'), '+memory');
    assert.equal(readFileSync(join(fake.root, 'memory.max'), 'utf8'), String(4 * GiB));
  } finally {
    fake.cleanup();
  }
});

test('not enabled where the parent lacks the memory controller (nothing written)', () => {
  const fake = fakeHierarchy('cpu pids');
  try {
    assert.equal(enableMemoryController(fake.parent, fake.root, 4 * GiB), false);
    assert.equal(readFileSync(join(fake.parent, 'cgroup.subtree_control'), 'utf8'), '\n');
  } finally {
    fake.cleanup();
  }
});

test('a worker leaf: its cap, no swap, OOM kills the whole group; usage, peak and oom_kill read back', () => {
  const fake = fakeHierarchy('memory');
  try {
    const path = join(fake.root, 'worker-1');
    mkdirSync(path);
    const leaf = new V2MemoryLeaf(path, 512 * 1024 ** 2);
    assert.equal(leaf.apply(), true);
    assert.equal(readFileSync(join(path, 'memory.max'), 'utf8'), String(512 * 1024 ** 2));
    assert.equal(readFileSync(join(path, 'memory.swap.max'), 'utf8'), '0');
    assert.equal(readFileSync(join(path, 'memory.oom.group'), 'utf8'), '1');
    writeFileSync(join(path, 'memory.current'), '1234\n');
    writeFileSync(join(path, 'memory.peak'), '5678\n');
    writeFileSync(join(path, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 1\n');
    writeFileSync(join(fake.root, 'memory.peak'), '9999\n');
    assert.deepEqual([leaf.usageBytes(), leaf.peakBytes(), leaf.oomKills(), v2RunPeak(fake.root)], [1234, 5678, 1, 9999]);
  } finally {
    fake.cleanup();
  }
});

test('this machine: the v2 hierarchy has no memory controller, so the run falls to the v1 rung', (t) => {
  const tree = CgroupTree.create(`bulkhead-${process.pid}-v2probe`, { budgetBytes: 4 * GiB });
  if (tree === null) {
    t.skip('no writable cgroup v2 hierarchy on this machine');
    return;
  }
  try {
    const controllers = readFileSync(join(tree.root, '..', 'cgroup.controllers'), 'utf8');
    // Where the controller is there, enabling it may still be refused (no internal processes):
    // then this test has nothing to say about this machine.
    if (controllers.split(/\s+/).includes('memory')) t.skip('this v2 hierarchy has the memory controller');
    else assert.equal(tree.memoryEnabled, false);
  } finally {
    tree.remove();
  }
});
