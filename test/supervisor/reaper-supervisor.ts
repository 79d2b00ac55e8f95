/**
 * A stand-in bulkhead for run-reaper.test.ts: a process the test can SIGKILL. It starts a RunReaper
 * with a run cgroup of its own (v2 and v1 memory, where writable), then the processes a run would
 * leave behind, each reachable by one of the reaper's ways only:
 *
 *   worker      registered, leads its process group; workerChild is in that group
 *   escaped     its own session, not registered, carries the run's marker
 *   confinedV2  its own session, no marker, in the run's v2 cgroup leaf
 *   confinedV1  its own session, no marker, in the run's v1 memory cgroup leaf
 *   forgotten   registered, then forgotten, no marker: must be left alone
 *
 * It prints one JSON line (the pids, the reaper's, the cgroup folders), then waits at most 60 s.
 * Run as `node reaper-supervisor.js <python> <reaper script>`.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CgroupTree, MemoryCgroupTree, wrapInCgroups } from '../../src/supervisor/platform/index.js';
import { RUN_MARKER_VARIABLE, RunReaper } from '../../src/supervisor/run-reaper.js';

const [python, script] = process.argv.slice(2) as [string, string];
const SLEEP = ['-c', 'import time; time.sleep(60)'];
const runName = `bulkhead-${process.pid}-${Date.now()}`;
const v2 = CgroupTree.create(runName);
const v1 = MemoryCgroupTree.create(runName, null);
const v2Leaf = v2?.leaf('worker-1') ?? null;
const v1Leaf = v1?.leaf('worker-1', null) ?? null;
const reaper = RunReaper.start({ python, script, cgroups: [v2?.root, v1?.root].filter((dir): dir is string => dir !== undefined) });

const unmarked = { ...process.env };
delete unmarked[RUN_MARKER_VARIABLE];
const marked = { ...unmarked, ...reaper.env };

function start(args: string[], env: NodeJS.ProcessEnv, cgroups: string[] = []): number {
  const launch = wrapInCgroups(cgroups, python, args);
  const child = spawn(launch.command, launch.args, { env, detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid!;
}

// The worker prints its child's pid once the child runs.
const workerSource = 'import subprocess, sys, time\nchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])\nprint(child.pid, flush=True)\ntime.sleep(60)';
const workerProcess = spawn(python, ['-c', workerSource], { env: marked, detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
const worker = workerProcess.pid!;
reaper.register({ pid: worker, pgid: worker, cgroups: [] });
const forgotten = start(SLEEP, unmarked);
reaper.register({ pid: forgotten, pgid: forgotten, cgroups: [] });
reaper.forget(forgotten);
const escaped = start(SLEEP, marked);
const confinedV2 = v2Leaf ? start(SLEEP, unmarked, [v2Leaf.path]) : null;
const confinedV1 = v1Leaf ? start(SLEEP, unmarked, [v1Leaf.path]) : null;

createInterface({ input: workerProcess.stdout! }).once('line', (line) => {
  const pids = { reaper: reaper.pid, worker, workerChild: Number(line), escaped, confinedV2, confinedV1, forgotten };
  process.stdout.write(`${JSON.stringify({ pids, cgroups: [v2?.root, v1?.root].filter(Boolean) })}\n`);
});
setTimeout(() => process.exit(0), 60_000);
