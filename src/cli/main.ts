#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=50 --expose-gc
/**
 * The entry point. A `bulkhead run` (or `list`) starts its interpreter probe before anything else
 * (runner/head-start.ts), so that Python starting and importing pytest overlaps node loading the
 * rest of bulkhead; then the program is loaded and run.
 *
 * The node flags on the #! line keep the supervisor's memory near what it holds: a young
 * generation of 2 MB (a test's messages die young; larger, it only delays their collection), a
 * major collection once the old generation has grown by half since the last (V8's own factor let
 * a 50,000-test collection leave 60 MB of garbage before collecting it), and `gc` exposed for
 * runner/heap-keeper.ts.
 */
import { mayHaveConfig } from '../config/config-files.js';
import { startProbeEarly } from '../runner/head-start.js';

if (!mayHaveConfig(process.cwd())) startProbeEarly(process.argv.slice(2), process.env, process.cwd());
const { main } = await import('./program.js');
await main();
