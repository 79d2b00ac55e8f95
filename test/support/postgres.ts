/**
 * A throwaway PostgreSQL server for one test file: a cluster in a temp folder, listening only on a
 * unix socket in that folder (no TCP port to collide with anything), stopped and deleted by
 * `stop()`. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user that
 * Debian's package creates. `scripts/setup-machine.sh` installs the `postgresql` package.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export type Postgres = { ok: true; socketDir: string; user: string; stop(): void } | { ok: false; reason: string };

const USER = 'bulkhead';

function binDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0]!, 'bin') : null;
}

function postgresIds(): { uid: number; gid: number } | null {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export function startPostgres(): Postgres {
  const bin = binDir();
  if (bin === null) return { ok: false, reason: 'PostgreSQL is not installed (bash scripts/setup-machine.sh installs the postgresql package)' };
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? postgresIds() : null;
  if (asRoot && ids === null) return { ok: false, reason: 'running as root and there is no postgres user to run PostgreSQL as' };
  // Short: the socket's path must fit in 107 bytes.
  const dir = mkdtempSync('/tmp/bh-pg-');
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const data = join(dir, 'data');
  const run = (command: string, args: string[], timeoutMs: number): ReturnType<typeof spawnSync> =>
    asRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, command), ...args], { encoding: 'utf8', timeout: timeoutMs })
      : spawnSync(join(bin, command), args, { encoding: 'utf8', timeout: timeoutMs });
  const fail = (what: string, result: ReturnType<typeof spawnSync>): Postgres => {
    rmSync(dir, { recursive: true, force: true });
    return { ok: false, reason: `${what} failed (${result.error?.message ?? `exit ${result.status}`}): ${String(result.stderr ?? '').trim().slice(-400)}` };
  };
  const init = run('initdb', ['-D', data, '-U', USER, '--auth=trust', '-E', 'UTF8', '--no-sync'], 120_000);
  if (init.status !== 0) return fail('initdb', init);
  const options = `-k ${dir} -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=30 -c shared_buffers=16MB`;
  const start = run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start'], 90_000);
  if (start.status !== 0) return fail('pg_ctl start', start);
  return {
    ok: true,
    socketDir: dir,
    user: USER,
    stop() {
      // Immediate: the server is thrown away with its folder, nothing to flush.
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '60', 'stop'], 90_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
