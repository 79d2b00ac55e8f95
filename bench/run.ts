/**
 * `npm run bench`: both benchmarks, one after the other (overhead first: it takes about a minute;
 * networkx takes about 15). Same as `node dist/bench/networkx.js && node dist/bench/overhead.js`
 * in the other order. Each saves its own JSON under bench/results/.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

for (const script of ['overhead.js', 'networkx.js']) {
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
