/**
 * Where a project's bulkhead config lives: find-config.ts reads these; `mayHaveConfig` only looks,
 * for the entry point, which starts no early probe where a config may name another interpreter
 * (or be bad, and then nothing may start).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const OWN_CONFIG_FILE = 'bulkhead.toml';
export const PYPROJECT_FILE = 'pyproject.toml';
/** How the headers of bulkhead's table and its sub-tables in a pyproject.toml begin. */
export const PYPROJECT_TABLE_PREFIX = '[tool.bulkhead';

/** Whether the project folder may hold a bulkhead config, without parsing anything; unreadable counts as yes. */
export function mayHaveConfig(projectDir: string): boolean {
  if (existsSync(join(projectDir, OWN_CONFIG_FILE))) return true;
  const pyproject = join(projectDir, PYPROJECT_FILE);
  if (!existsSync(pyproject)) return false;
  try {
    return readFileSync(pyproject, 'utf8').includes(PYPROJECT_TABLE_PREFIX);
  } catch {
    return true;
  }
}
