/**
 * Which file configures bulkhead: an explicit path, else `bulkhead.toml` in the project folder,
 * else the `[tool.bulkhead]` table of its pyproject.toml. Only the project folder (pytest's
 * rootdir) is looked at, never its parents: the config belongs to the suite being run.
 */
import { existsSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { OWN_CONFIG_FILE, PYPROJECT_FILE } from './config-files.js';
import type { ConfigSource } from './issues.js';
import { readToml } from './read-toml.js';
import { isTable } from './values.js';

export interface FoundConfig {
  kind: 'found';
  source: ConfigSource;
  /** Absolute path of the file (relative paths inside it are relative to its folder). */
  path: string;
  /** bulkhead's table, not yet validated. */
  table: unknown;
  notices: string[];
}

export type FindResult = FoundConfig | { kind: 'none' } | { kind: 'error'; error: string };

export function findConfig(projectDir: string, explicitPath?: string): FindResult {
  if (explicitPath !== undefined) return readExplicit(projectDir, resolve(projectDir, explicitPath));
  const own = join(projectDir, OWN_CONFIG_FILE);
  const pyproject = join(projectDir, PYPROJECT_FILE);
  if (existsSync(own)) {
    const found = readFile(projectDir, own, []);
    if (found.kind !== 'found' || !existsSync(pyproject)) return found;
    // A pyproject.toml that does not parse is pytest's problem here, not ours: bulkhead.toml is used.
    const other = readFile(projectDir, pyproject, ['tool', 'bulkhead']);
    if (other.kind === 'found') {
      found.notices.push(`bulkhead: using ${found.source.file}; the [tool.bulkhead] table in ${other.source.file} is ignored`);
    }
    return found;
  }
  return existsSync(pyproject) ? readFile(projectDir, pyproject, ['tool', 'bulkhead']) : { kind: 'none' };
}

function readExplicit(projectDir: string, path: string): FindResult {
  const isPyproject = basename(path) === 'pyproject.toml';
  const found = readFile(projectDir, path, isPyproject ? ['tool', 'bulkhead'] : []);
  if (found.kind === 'none') return { kind: 'error', error: `${displayPath(projectDir, path)}: has no [tool.bulkhead] table` };
  return found;
}

/** The file's bulkhead table at `prefix`; 'none' when the file has no such table. */
function readFile(projectDir: string, path: string, prefix: string[]): FindResult {
  const file = displayPath(projectDir, path);
  const read = readToml(path, file);
  if (!read.ok) return { kind: 'error', error: read.error };
  let table: unknown = read.data;
  for (const key of prefix) {
    if (!isTable(table) || !(key in table)) return { kind: 'none' };
    table = table[key];
  }
  return { kind: 'found', source: { file, text: read.text, prefix }, path, table, notices: [] };
}

/** Relative to the project when inside it (`pyproject.toml:14: ...`), else absolute. */
function displayPath(projectDir: string, path: string): string {
  const inside = relative(projectDir, path);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}
