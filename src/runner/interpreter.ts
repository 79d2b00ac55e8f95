/**
 * The interpreter the run's processes start with. pyenv's and asdf's shims choose an interpreter
 * by running shell scripts on every start: measured here, 0.4 to 0.8 s before the real python
 * runs, paid again by every worker, the reaper and every replacement. The probe reports the
 * interpreter the shim chose (`sys.executable`); when the command the user gave is a shim, the
 * run starts that interpreter directly, as pytest-xdist starts its workers with `sys.executable`,
 * and puts its directory first on PATH, as the shim's own `pyenv exec` / `asdf exec` does, so a
 * test that starts `python` or a console script finds the same ones as under plain pytest.
 * Anything else the user gave (a virtualenv's python, a wrapper script) is started as given.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join } from 'node:path';

export interface LaunchInterpreter {
  python: string;
  /** A directory to put first on PATH (the chosen interpreter's), or null. */
  pathFirst: string | null;
}

export function unshim(python: string, executable: string, path: string | undefined): LaunchInterpreter {
  const given = { python, pathFirst: null };
  const found = locate(python, path);
  if (found === null || basename(dirname(found)) !== 'shims') return given;
  if (!isAbsolute(executable) || executable === found || !isExecutableFile(executable)) return given;
  return { python: executable, pathFirst: dirname(executable) };
}

/** PATH with `first` in front (once). */
export function withPathFirst(path: string | undefined, first: string): string {
  const entries = (path ?? '').split(delimiter).filter((entry) => entry !== '');
  return [first, ...entries.filter((entry) => entry !== first)].join(delimiter);
}

/** Where a command runs from: itself when it names a path, else its first match on PATH. */
function locate(command: string, path: string | undefined): string | null {
  if (command.includes('/')) return isExecutableFile(command) ? command : null;
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
