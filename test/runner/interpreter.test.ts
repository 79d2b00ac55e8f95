/**
 * unshim (runner/interpreter.ts) on real files: a command found in a `shims` directory is replaced
 * by the interpreter the probe reported, with that interpreter's directory first on PATH; a
 * virtualenv's python, a wrapper or a path given outright is left as it is.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unshim, withPathFirst } from '../../src/runner/interpreter.js';

const root = mkdtempSync(join(tmpdir(), 'bulkhead-interpreter-'));
after(() => rmSync(root, { recursive: true, force: true }));

function executable(path: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, 0o755);
  return path;
}

const shim = executable(join(root, 'pyenv', 'shims', 'python3'));
const real = executable(join(root, 'pyenv', 'versions', '3.11.7', 'bin', 'python3'));
const venv = executable(join(root, 'venv', 'bin', 'python3'));
const path = [join(root, 'pyenv', 'shims'), '/usr/bin'].join(':');

test('a shim found on PATH: the real interpreter, its directory first on PATH', () => {
  assert.deepEqual(unshim('python3', real, path), { python: real, pathFirst: join(root, 'pyenv', 'versions', '3.11.7', 'bin') });
});

test('a shim given by its path is a shim too', () => {
  assert.deepEqual(unshim(shim, real, '/usr/bin'), { python: real, pathFirst: join(root, 'pyenv', 'versions', '3.11.7', 'bin') });
});

test('not a shim: a virtualenv python, found first on PATH or given by path, is started as given', () => {
  const venvPath = [join(root, 'venv', 'bin'), path].join(':');
  assert.deepEqual(unshim('python3', venv, venvPath), { python: 'python3', pathFirst: null });
  assert.deepEqual(unshim(venv, venv, path), { python: venv, pathFirst: null });
});

test('a shim whose reported interpreter is not a runnable absolute path is kept', () => {
  assert.deepEqual(unshim('python3', '', path), { python: 'python3', pathFirst: null });
  assert.deepEqual(unshim('python3', 'python3', path), { python: 'python3', pathFirst: null });
  assert.deepEqual(unshim('python3', join(root, 'missing', 'python3'), path), { python: 'python3', pathFirst: null });
});

test('a command not on PATH at all is left to fail as before', () => {
  assert.deepEqual(unshim('python-nowhere', real, path), { python: 'python-nowhere', pathFirst: null });
});

test('withPathFirst puts the directory first once, keeping the rest in order', () => {
  assert.equal(withPathFirst('/a:/b:/c', '/b'), '/b:/a:/c');
  assert.equal(withPathFirst('/a::/c', '/x'), '/x:/a:/c');
  assert.equal(withPathFirst(undefined, '/x'), '/x');
});
