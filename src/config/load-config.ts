/**
 * The entry point for the CLI: find the project's config file, read it and validate it.
 */
import { buildConfig } from './build-config.js';
import { findConfig } from './find-config.js';
import { emptyConfig, type LoadedConfig } from './types.js';

/** Each error is one line naming the file, the line, the key and what is allowed. */
export type LoadConfigResult = { ok: true; config: LoadedConfig } | { ok: false; errors: string[] };

/**
 * @param projectDir pytest's rootdir (bulkhead's cwd): where bulkhead.toml / pyproject.toml are looked for.
 * @param explicitPath a config file named by the user, relative to projectDir; a pyproject.toml is
 *   read for its [tool.bulkhead] table, any other file for its top-level keys.
 */
export function loadConfig(projectDir: string, explicitPath?: string): LoadConfigResult {
  const found = findConfig(projectDir, explicitPath);
  switch (found.kind) {
    case 'none':
      return { ok: true, config: emptyConfig() };
    case 'error':
      return { ok: false, errors: [found.error] };
    case 'found':
      return buildConfig(found.table, found.source, found.path, found.notices);
  }
}
