export { signalProcessGroup, signalProcess, isProcessAlive, processStartTime, SPAWN_DETACHED } from './linux.js';
export { CgroupTree, CgroupLeaf, wrapInCgroups } from './cgroup-v2.js';
export { MemoryCgroupTree, MemoryLeaf } from './cgroup-v1-memory.js';
export { availableMemory, effectiveMemoryLimit, memAvailable, memoryPressure, type MemoryLimit } from './memory-limits.js';
