import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of bulkhead's own package.json (where python/ ships), found from this file. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'python', 'bulkhead_pytest'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`bulkhead: cannot find its package folder above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
