/**
 * The BULKHEAD_* environment variables are listed in one place on each side
 * (src/model/environment.ts, python/bulkhead_pytest/environment.py): every name in src/
 * and in the Python plugin and its launchers must be one of them, every use must go through them
 * (no name written out as a string elsewhere), the two lists must agree, and none may be stale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ENV, ENV_VARIABLES } from '../../src/model/environment.js';
import { packageRoot } from '../../src/util/package-root.js';
import { PYTHON } from '../supervisor/harness.js';

const ROOT = packageRoot();
const NAME = /BULKHEAD_[A-Z0-9_]+/g;
/** A name written out as a string literal (or a property access) rather than taken from the list. */
const SPELLED_OUT_TS = /(['"`]BULKHEAD_[A-Z0-9_]+['"`]|\.BULKHEAD_[A-Z0-9_]+)/;
/** The same in Python (``NAME`` in a docstring is a mention, not a use). */
const SPELLED_OUT_PY = /(['"]BULKHEAD_[A-Z0-9_]+['"]|\.BULKHEAD_[A-Z0-9_]+)/;

function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(extension))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Each BULKHEAD_* name in these files, with where it is. */
function namesIn(files: string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of files) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const [name] of line.matchAll(NAME)) found.set(name, [...(found.get(name) ?? []), `${relative(ROOT, file)}:${i + 1}`]);
      });
  }
  return found;
}

function spelledOut(files: string[], listFile: string, pattern: RegExp): string[] {
  const places: string[] = [];
  for (const file of files.filter((f) => f !== listFile)) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (pattern.test(line)) places.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
      });
  }
  return places;
}

const tsFiles = filesUnder(join(ROOT, 'src'), '.ts');
const tsList = join(ROOT, 'src', 'model', 'environment.ts');
const pyFiles = [...filesUnder(join(ROOT, 'python', 'bulkhead_pytest'), '.py'), ...filesUnder(join(ROOT, 'python'), '.py').filter((f) => !f.includes('/tests/') && !f.includes('/bulkhead_pytest/'))];
const pyList = join(ROOT, 'python', 'bulkhead_pytest', 'environment.py');
const listed = new Set(ENV_VARIABLES.map((variable) => variable.name));

test('every BULKHEAD_* name in src/ is in the list, and every use goes through it', () => {
  const unknown = [...namesIn(tsFiles)].filter(([name]) => !listed.has(name));
  assert.deepEqual(unknown, [], 'names src/ uses that src/model/environment.ts does not list');
  assert.deepEqual(spelledOut(tsFiles, tsList, SPELLED_OUT_TS), [], 'names written out instead of taken from ENV');
});

test('every variable is documented, and the list names each once', () => {
  assert.equal(listed.size, ENV_VARIABLES.length);
  for (const variable of ENV_VARIABLES) {
    assert.match(variable.name, /^BULKHEAD_[A-Z0-9_]+$/);
    assert.ok(variable.meaning.length > 10 && variable.setBy.length > 3, variable.name);
  }
  assert.equal(ENV.channelFd.name, 'BULKHEAD_CHANNEL_FD');
});

test("the worker's list is the supervisor's worker variables, and every name in the plugin is on it", (t) => {
  let names: string[];
  try {
    const out = execFileSync(PYTHON, ['-c', 'import json; from bulkhead_pytest.environment import VARIABLES; print(json.dumps(sorted(VARIABLES)))'], {
      cwd: join(ROOT, 'python'),
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      timeout: 60_000,
      encoding: 'utf8',
    });
    names = JSON.parse(out) as string[];
  } catch (error) {
    t.skip(`${PYTHON} cannot import the plugin's environment module: ${(error as Error).message}`);
    return;
  }
  const workerSide = ENV_VARIABLES.filter((variable) => variable.side === 'worker').map((variable) => variable.name).sort();
  assert.deepEqual(names, workerSide);
  const unknown = [...namesIn(pyFiles)].filter(([name]) => !names.includes(name));
  assert.deepEqual(unknown, [], 'names the plugin uses that python/bulkhead_pytest/environment.py does not list');
  assert.deepEqual(spelledOut(pyFiles, pyList, SPELLED_OUT_PY), [], 'names written out instead of taken from environment.py');
});

test('no listed variable is stale: each is used outside the lists', () => {
  const used = new Set([...namesIn(tsFiles.filter((f) => f !== tsList)).keys(), ...namesIn(pyFiles.filter((f) => f !== pyList)).keys()]);
  // Uses through the lists count: ENV.<key> in TypeScript, environment.<NAME> in Python.
  const tsUses = tsFiles.filter((f) => f !== tsList).map((f) => readFileSync(f, 'utf8')).join('\n');
  const pyUses = pyFiles.filter((f) => f !== pyList).map((f) => readFileSync(f, 'utf8')).join('\n');
  for (const [key, variable] of Object.entries(ENV)) {
    const constant = variable.name.slice('BULKHEAD_'.length);
    const usedHere = used.has(variable.name) || tsUses.includes(`ENV.${key}.`) || pyUses.includes(`environment.${constant}`);
    assert.ok(usedHere, `${variable.name} is listed but never used`);
  }
});
