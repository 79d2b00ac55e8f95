/**
 * Parity on a slice of networkx's own suite: plain pytest and `bulkhead run --workers 2` must
 * write the same per-test outcomes in their JUnit XML. The modules are chosen to cover passes,
 * a parametrized xfail (tree distance measures), skipif-marked tests (leiden, graph), and a
 * module-level importorskip that pytest reports as a collection skip (agraph, when pygraphviz is
 * absent). The full-suite check is `node dist/scripts/parity.js` (default `--pyargs networkx`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PARITY = fileURLToPath(new URL('../../scripts/parity.js', import.meta.url));
const PYTHON = process.env.BULKHEAD_PYTHON ?? 'python3';
const MODULES = [
  'networkx.algorithms.tree.tests.test_distance_measures',
  'networkx.algorithms.community.tests.test_leiden',
  'networkx.drawing.tests.test_agraph',
  'networkx.classes.tests.test_graph',
  'networkx.algorithms.tests.test_cycles',
];

function missingPrerequisite(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import networkx, pytest'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `networkx or pytest is not importable by ${PYTHON}`;
}

const skip = missingPrerequisite();

test('bulkhead and pytest agree on every test of a networkx subset', { skip: skip ?? false, timeout: 180_000 }, async () => {
  // A fresh cwd: no pytest config or .bulkhead artifacts from the repository.
  const cwd = await mkdtemp(join(tmpdir(), 'bulkhead-parity-test-'));
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [PARITY, '--cwd', cwd, '--workers', '2', '--', '-p', 'no:benchmark', '--pyargs', ...MODULES],
        { maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? ((error.code as number | undefined) ?? null) : 0, stdout, stderr }),
      );
    });
    const report = `${stdout}\n${stderr}`;
    assert.equal(code, 0, `parity script failed:\n${report}`);
    assert.match(stdout, /parity: IDENTICAL/);
    // The subset must really exercise the outcomes it was chosen for.
    const count = (label: string): number => Number(new RegExp(`^${label.replace(/[()]/g, '\\$&')}\\s+(\\d+)\\s+(\\d+)`, 'm').exec(stdout)?.[1] ?? 0);
    assert.ok(count('passed') > 100, report);
    assert.ok(count('xfailed (pytest.xfail)') >= 1, report);
    assert.ok(count('skipped (pytest.skip)') >= 1, report);
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});
