export { signalProcessGroup, signalProcess, isProcessAlive, processStartTime, processProgress, SPAWN_DETACHED, type ProcessProgress } from './linux.js';
export { CgroupTree, CgroupLeaf, wrapInCgroups } from './cgroup-v2.js';
export { MemoryCgroupTree, MemoryLeaf } from './cgroup-v1-memory.js';
export { V2MemoryLeaf } from './cgroup-v2-memory.js';
import type { MemoryLeaf } from './cgroup-v1-memory.js';
import type { V2MemoryLeaf } from './cgroup-v2-memory.js';
/** A worker's memory cgroup, v1 or v2: its cap, usage, peak and OOM kills. */
export type MemoryCgroup = MemoryLeaf | V2MemoryLeaf;
export { availableMemory, effectiveMemoryLimit, memAvailable, memoryPressure, type MemoryLimit } from './memory-limits.js';
