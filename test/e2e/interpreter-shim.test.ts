/**
 * A python found through a shim (pyenv's, asdf's: a script in a `shims` directory that picks the
 * interpreter each time it starts) is asked once, by the probe; the workers and the reaper start
 * the interpreter it chose, with that interpreter's directory first on PATH as the shim would
 * have put it. A real project, a real shim script that counts its starts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { PYTHON, describeRun, runCli, tempDir } from '../support/cli.js';

const scratch = tempDir('interpreter-shim');
after(() => scratch.cleanup());

const realPython = execFileSync(PYTHON, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
const shims = join(scratch.dir, 'shims');
const starts = join(scratch.dir, 'starts.log');
mkdirSync(shims);
writeFileSync(join(shims, 'python3'), `#!/bin/sh\necho "$$" >> ${JSON.stringify(starts)}\nexec ${JSON.stringify(realPython)} "$@"\n`);
chmodSync(join(shims, 'python3'), 0o755);

const project = join(scratch.dir, 'project');
mkdirSync(project);
writeFileSync(join(project, 'pytest.ini'), '[pytest]\n');
writeFileSync(
  join(project, 'test_where.py'),
  [
    'import os, sys',
    '',
    'def test_interpreter_and_path():',
    '    first = os.environ["PATH"].split(os.pathsep)[0]',
    `    assert sys.executable == ${JSON.stringify(realPython)}`,
    '    assert first == os.path.dirname(sys.executable), first',
    '',
    'def test_other():',
    '    pass',
    '',
  ].join('\n'),
);

test('through a shim: the probe starts it once, the workers start the interpreter it chose', async () => {
  const bulk = await runCli({ cwd: project, env: { PATH: `${shims}:${process.env.PATH ?? ''}` }, options: ['--python', 'python3'] });
  assert.equal(bulk.code, 0, describeRun(bulk));
  assert.equal(bulk.json?.summary.passed, 2);
  const count = readFileSync(starts, 'utf8').split('\n').filter(Boolean).length;
  assert.equal(count, 1, 'only the probe went through the shim');
});
