export { signalProcessGroup, signalProcess, isProcessAlive, processStartTime, SPAWN_DETACHED } from './linux.js';
export { CgroupTree, CgroupLeaf } from './cgroup-v2.js';
