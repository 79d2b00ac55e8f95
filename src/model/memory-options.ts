/** How a run's memory is limited: the effective limit, the budget, caps, recycling. */
export interface MemoryOptions {
  /** The effective limit (smallest cgroup limit above us, or MemAvailable) and where it comes from. */
  limitBytes: number;
  limitSource: string;
  /** What the run may use in all. */
  budgetBytes: number;
  /**
   * The user set the budget (--memory-budget, or the config): it is a limit they chose, and even a
   * test running alone stays within it. The default budget keeps a reserve against parallel
   * stampedes only, and a test alone may go past it (see PoolMemory's lone cap).
   */
  budgetChosen?: boolean;
  /** Hard cap per worker (--worker-memory-max); null: none beyond the run's budget. */
  workerMaxBytes: number | null;
  /** Force the last rung of the ladder (RLIMIT_DATA + RSS watchdog) even where cgroups work. */
  forceRlimit: boolean;
  /** Replace a worker whose idle memory grew past this (--worker-recycle-memory); null: never. */
  recycleBytes: number | null;
}

/** The memory rung's part the worker itself applies. */
export interface WorkerMemoryLimits {
  /** Its cgroup v1 memory leaf, where the worker reads its peaks. */
  cgroupPath: string | null;
  /** RLIMIT_DATA the worker sets on itself before anything is imported (the last rung's backstop). */
  dataLimitBytes: number | null;
}
