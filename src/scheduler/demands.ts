/**
 * What tests need, as the scheduler learns it: the default for a test that declares nothing, and
 * a measured peak shared with the unmeasured siblings of its family.
 */
import type { TestDemand } from './types.js';

/**
 * A test's measured peak informs its unmeasured siblings (the same function with other
 * parameters): they are predicted alike, and may now run side by side.
 */
export function learnPeak(demands: TestDemand[], index: number, peakBytes: number): void {
  const demand = demands[index];
  if (!demand || demand.measured) return;
  for (const sibling of demands) {
    if (sibling.family !== demand.family) continue;
    if (!sibling.measured) {
      sibling.memoryBytes = peakBytes;
      sibling.measured = true;
    } else if (sibling.memoryBytes < peakBytes && sibling !== demand) {
      sibling.memoryBytes = peakBytes;
    }
  }
}

/** Without a declared demand: one CPU slot, no memory to speak of, its own family. */
export function defaultDemand(id: string): TestDemand {
  return { memoryBytes: 0, cpus: 1, resources: {}, exclusive: false, group: null, family: id, measured: true };
}
