/**
 * pytest-xdist for the pyenv python3, without Debian's old pytest: a temp folder to put on
 * PYTHONPATH holding symlinks to only Debian's xdist and execnet packages (and their
 * dist-info/egg-info, so pytest finds xdist's entry point). `scripts/setup-machine.sh` installs
 * python3-pytest-xdist; it is run here if the packages are missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

export const DEBIAN_DIST_PACKAGES = '/usr/lib/python3/dist-packages';

export type XdistPath = { ok: true; pythonPath: string; cleanup(): void } | { ok: false; reason: string };

function debianEntries(): string[] {
  if (!existsSync(join(DEBIAN_DIST_PACKAGES, 'xdist')) || !existsSync(join(DEBIAN_DIST_PACKAGES, 'execnet'))) return [];
  return readdirSync(DEBIAN_DIST_PACKAGES).filter(
    (name) =>
      name === 'xdist' ||
      name === 'execnet' ||
      /^(pytest_xdist|execnet)-[^/]*\.(dist-info|egg-info)$/.test(name),
  );
}

/** Builds the PYTHONPATH folder, installing python3-pytest-xdist first if it is missing. */
export function xdistPythonPath(): XdistPath {
  let entries = debianEntries();
  if (entries.length === 0) {
    const setup = join(REPO_ROOT, 'scripts', 'setup-machine.sh');
    const result = spawnSync('bash', [setup], { encoding: 'utf8', timeout: 240_000, stdio: ['ignore', 'pipe', 'pipe'] });
    entries = debianEntries();
    if (entries.length === 0) {
      const why = result.error ? result.error.message : `exit ${result.status}: ${(result.stderr || result.stdout).trim().split('\n').pop() ?? ''}`;
      return {
        ok: false,
        reason: `Debian's pytest-xdist is not in ${DEBIAN_DIST_PACKAGES} and scripts/setup-machine.sh could not install it (${why})`,
      };
    }
  }
  if (!entries.some((name) => name.startsWith('pytest_xdist-'))) {
    return { ok: false, reason: `no pytest_xdist-*.dist-info in ${DEBIAN_DIST_PACKAGES}: pytest would not load xdist` };
  }
  const dir = mkdtempSync(join(tmpdir(), 'bulkhead-e2e-xdist-'));
  for (const name of entries) symlinkSync(join(DEBIAN_DIST_PACKAGES, name), join(dir, name));
  return { ok: true, pythonPath: dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
