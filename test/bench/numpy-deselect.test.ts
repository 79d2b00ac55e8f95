import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { DESELECT_DIR_VARIABLE, DESELECT_PLUGIN, readDeselection, writeDeselectPlugin } from '../../bench/numpy-deselect.js';

const python = process.env.BULKHEAD_PYTHON ?? 'python3';
const hasNumpy = spawnSync(python, ['-c', 'from numpy.testing._private.utils import requires_memory'], { stdio: 'ignore' }).status === 0;

// numpy's own decorator, on a function, a method and a parametrized function, above and below a quarter of RAM.
const SUITE = `import pytest
from numpy.testing._private.utils import requires_memory

BIG = ${Math.ceil(totalmem() / 4) + 1}
SMALL = ${Math.floor(totalmem() / 4) - 1}

@requires_memory(free_bytes=BIG)
def test_big():
    raise AssertionError('deselected: never runs')

@requires_memory(SMALL)
def test_small():
    pass

def test_plain():
    pass

class TestC:
    @requires_memory(free_bytes=BIG)
    def test_big_method(self):
        raise AssertionError('deselected: never runs')

@pytest.mark.parametrize('n', [1, 2])
@requires_memory(free_bytes=BIG)
def test_big_param(n):
    raise AssertionError('deselected: never runs')
`;

test('the plugin deselects the tests numpy requires_memory gives more than a quarter of RAM, and reports them', (t) => {
  if (!hasNumpy) return t.skip(`${python} has no numpy`);
  const root = mkdtempSync(join(tmpdir(), 'bulkhead-numpy-deselect-'));
  try {
    const plugin = writeDeselectPlugin(join(root, 'plugin'));
    const reports = join(root, 'reports');
    mkdirSync(reports);
    mkdirSync(join(root, 'suite'));
    writeFileSync(join(root, 'suite', 'pytest.ini'), '[pytest]\n');
    writeFileSync(join(root, 'suite', 'test_mem.py'), SUITE);
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: plugin, [DESELECT_DIR_VARIABLE]: reports, NPY_AVAILABLE_MEM: '1TB' };
    delete env.PYTEST_ADDOPTS;
    const result = spawnSync(python, ['-m', 'pytest', '-p', DESELECT_PLUGIN, '-p', 'no:cacheprovider', '-q'], { cwd: join(root, 'suite'), env, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /2 passed, 4 deselected/);
    assert.match(result.stderr, /bulkhead-bench-memdeselect: 4 deselected/);
    const deselection = readDeselection(reports);
    assert.equal(deselection.processes, 1);
    assert.deepEqual(deselection.ids, [
      'test_mem.py::TestC::test_big_method',
      'test_mem.py::test_big',
      'test_mem.py::test_big_param[1]',
      'test_mem.py::test_big_param[2]',
    ].map((id) => `${join(root, 'suite')}/${id}`).sort());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
