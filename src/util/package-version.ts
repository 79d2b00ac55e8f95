/** bulkhead's own version, from its package.json: what a recording says wrote it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

let cached: string | null = null;

export function packageVersion(): string {
  if (cached === null) {
    try {
      const parsed = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
      cached = typeof parsed.version === 'string' ? parsed.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
