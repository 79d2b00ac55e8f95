/**
 * The pytest plugin bench/numpy.ts gives every tool: it deselects the tests numpy wraps in
 * `numpy.testing._private.utils.requires_memory(free_bytes=...)` that ask for more than a quarter
 * of the machine's memory. That decorator is no marker: it checks free memory when the test runs
 * and skips, so under load (xdist's two workers) those tests skip while under another tool they
 * may run for minutes; deselecting them for everyone keeps the tools comparable. A test whose
 * `requires_memory` asks for less than it takes is judged by what it takes (UNDERSTATED below):
 * test_huge_list_error asks for 4.3 GB and builds a 17.2 GB tuple, so in the 16 GiB cgroup every
 * tool's worker running it is killed for its memory (xdist: "1 failed"; bulkhead: its isolated
 * retry, alone, is killed too, 46 s later).
 *
 * Each pytest process that collects (plain pytest, every bulkhead or xdist worker) writes what it
 * deselected to `$BULKHEAD_BENCH_DESELECT_DIR/<pid>.json` and one line to stderr.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DESELECT_PLUGIN = 'bulkhead_bench_memdeselect';
export const DESELECT_DIR_VARIABLE = 'BULKHEAD_BENCH_DESELECT_DIR';

const SOURCE = `"""bench/numpy.ts: deselects tests under numpy's requires_memory(free_bytes) above a quarter of RAM (or known to take more than they ask)."""
import json
import os
import sys

LIMIT = os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 4


def _unbound(fn):
    return getattr(fn, '__func__', fn)


def required_bytes(fn):
    """free_bytes from the closure of a layer of fn's __wrapped__ chain (requires_memory's wrapper), or None."""
    seen = set()
    fn = _unbound(fn)
    while fn is not None and id(fn) not in seen:
        seen.add(id(fn))
        code = getattr(fn, '__code__', None)
        cells = getattr(fn, '__closure__', None) or ()
        if code is not None:
            for name, cell in zip(code.co_freevars, cells):
                if name == 'free_bytes':
                    try:
                        return float(cell.cell_contents)
                    except (ValueError, TypeError):
                        pass
        fn = _unbound(getattr(fn, '__wrapped__', None))
    return None


# Tests whose requires_memory asks for less than they take, with what they take. Each is judged
# by that instead: under a capped cgroup it is killed for its memory whatever the tool.
UNDERSTATED = {
    # A tuple of 2**31 references to one array, 17.2 GB, before concatenate() refuses it; its
    # requires_memory asks for 2 * intc.max, 4.3 GB.
    'numpy/_core/tests/test_shape_base.py::TestConcatenate::test_huge_list_error': 8 * 2**31,
}


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        need = UNDERSTATED.get(_name(item)) or required_bytes(getattr(item, 'obj', None))
        (drop if need is not None and need > LIMIT else keep).append(item)
    if drop:
        items[:] = keep
        config.hook.pytest_deselected(items=drop)
    sys.stderr.write(f'bulkhead-bench-memdeselect: {len(drop)} deselected (free_bytes > {LIMIT:.0f})\\n')
    out = os.environ.get('${DESELECT_DIR_VARIABLE}')
    if out:
        with open(os.path.join(out, f'{os.getpid()}.json'), 'w') as f:
            json.dump({'limitBytes': LIMIT, 'deselected': [_name(item) for item in drop]}, f)


def _name(item):
    # Under --pyargs the node ids are relative to a rootdir the tests are not under
    # (tests/test_io.py::... or even ::TestSaveTxt::...): the file's path from site-packages says which tests.
    path = str(getattr(item, 'path', ''))
    for marker in ('/site-packages/', '/dist-packages/'):
        if marker in path:
            path = path.rsplit(marker, 1)[1]
            break
    rest = item.nodeid.split('::', 1)[1] if '::' in item.nodeid else item.nodeid
    return f'{path}::{rest}'
`;

/** Writes the plugin into `folder` (to go on PYTHONPATH) and returns the folder. */
export function writeDeselectPlugin(folder: string): string {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, `${DESELECT_PLUGIN}.py`), SOURCE);
  return folder;
}

export interface Deselection {
  /** How many pytest processes reported (1 for plain pytest, one per worker otherwise; more after restarts). */
  processes: number;
  /** Per process, how many it deselected (equal for all when every process collected the same suite). */
  counts: number[];
  /** The union of deselected test ids. */
  ids: string[];
  limitBytes: number | null;
}

/** What the processes of one run reported into `folder`. */
export function readDeselection(folder: string): Deselection {
  const reports = readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(folder, name), 'utf8')) as { limitBytes: number; deselected: string[] });
  const ids = new Set(reports.flatMap((report) => report.deselected));
  return {
    processes: reports.length,
    counts: reports.map((report) => report.deselected.length),
    ids: [...ids].sort(),
    limitBytes: reports[0]?.limitBytes ?? null,
  };
}
