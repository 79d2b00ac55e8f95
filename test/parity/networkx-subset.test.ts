/**
 * Parity on a slice of networkx's own suite: plain pytest and `bulkhead run --workers 2` must
 * write the same JUnit XML: the same per-test outcomes, and the same whole document once times,
 * timestamps and hostnames are set aside. On pytest 9 (python3: networkx 3) the modules cover
 * passes, a parametrized xfail (tree distance measures), skipif-marked tests (leiden, graph), and
 * a module-level importorskip that pytest reports as a collection skip (agraph, when pygraphviz is
 * absent); on pytest 7.2 (Debian's python3 with its networkx 2.8, which has neither of the first
 * two modules) minimum spanning trees and classic generators stand in, with skips of their own.
 * The full-suite check is `node dist/scripts/parity.js` (default `--pyargs networkx`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PARITY = fileURLToPath(new URL('../../scripts/parity.js', import.meta.url));

interface Subset {
  label: string;
  python: string;
  modules: string[];
  /** Outcomes the subset must really exercise (at least this many). */
  expect: Record<string, number>;
}

const SUBSETS: Subset[] = [
  {
    label: 'pytest 9 (python3)',
    python: process.env.BULKHEAD_PYTHON ?? 'python3',
    modules: [
      'networkx.algorithms.tree.tests.test_distance_measures',
      'networkx.algorithms.community.tests.test_leiden',
      'networkx.drawing.tests.test_agraph',
      'networkx.classes.tests.test_graph',
      'networkx.algorithms.tests.test_cycles',
    ],
    expect: { passed: 101, 'xfailed (pytest.xfail)': 1, 'skipped (pytest.skip)': 1, 'skipped (no type)': 1 },
  },
  {
    label: "pytest 7.2 (Debian's /usr/bin/python3)",
    python: '/usr/bin/python3',
    modules: [
      'networkx.classes.tests.test_graph',
      'networkx.algorithms.tests.test_cycles',
      'networkx.drawing.tests.test_agraph',
      'networkx.algorithms.tree.tests.test_mst',
      'networkx.generators.tests.test_classic',
    ],
    expect: { passed: 101, 'skipped (pytest.skip)': 1, 'skipped (no type)': 1 },
  },
];

function missingPrerequisite(subset: Subset): string | null {
  const probe = spawnSync(subset.python, ['-c', `import networkx, pytest, ${subset.modules.filter((m) => !m.includes('agraph')).join(', ')}`], { encoding: 'utf8' });
  return probe.status === 0 ? null : `networkx, pytest or the subset's modules are not importable by ${subset.python} (scripts/setup-machine.sh installs Debian's)`;
}

for (const subset of SUBSETS) {
  const skip = missingPrerequisite(subset);
  test(`bulkhead and pytest write the same JUnit for a networkx subset, ${subset.label}`, { skip: skip ?? false, timeout: 180_000 }, async () => {
    // A fresh cwd: no pytest config or .bulkhead artifacts from the repository.
    const cwd = await mkdtemp(join(tmpdir(), 'bulkhead-parity-test-'));
    try {
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [PARITY, '--cwd', cwd, '--workers', '2', '--python', subset.python, '--', '-p', 'no:benchmark', '--pyargs', ...subset.modules],
          { maxBuffer: 16 * 1024 * 1024 },
          (error, stdout, stderr) => resolve({ code: error ? ((error.code as number | undefined) ?? null) : 0, stdout, stderr }),
        );
      });
      const report = `${stdout}\n${stderr}`;
      assert.equal(code, 0, `parity script failed:\n${report}`);
      assert.match(stdout, /parity: IDENTICAL/);
      assert.match(stdout, /^documents: IDENTICAL/m, report);
      const count = (label: string): number => Number(new RegExp(`^${label.replace(/[()]/g, '\\$&')}\\s+(\\d+)\\s+(\\d+)`, 'm').exec(stdout)?.[1] ?? 0);
      for (const [label, least] of Object.entries(subset.expect)) assert.ok(count(label) >= least, `${label}: fewer than ${least}\n${report}`);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
}
