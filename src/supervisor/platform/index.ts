export { signalProcessGroup, isProcessAlive, SPAWN_DETACHED } from './linux.js';
