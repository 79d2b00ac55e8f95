#!/usr/bin/env -S node --max-semi-space-size=2 --expose-gc
/**
 * The entry point. A `bulkhead run` (or `list`) starts its interpreter probe before anything else
 * (runner/head-start.ts), so that Python starting and importing pytest overlaps node loading the
 * rest of bulkhead; then the program is loaded and run.
 */
import { mayHaveConfig } from '../config/config-files.js';
import { startProbeEarly } from '../runner/head-start.js';

if (!mayHaveConfig(process.cwd())) startProbeEarly(process.argv.slice(2), process.env, process.cwd());
const { main } = await import('./program.js');
await main();
