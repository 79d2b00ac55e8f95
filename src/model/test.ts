/** A collected test as the framework reported it. `id` is the framework's own node id. */
export interface TestInfo {
  id: string;
  /** Path of the file that defines the test, relative to the rootdir. */
  file: string;
  /** 0-based line as pytest's `item.location` gives it, or null when unknown. */
  line: number | null;
  /** Names of the markers on the test (own and inherited). */
  markers: string[];
  /**
   * The scope whose fixtures tests share most often (the module for pytest). Tests with the same
   * scope key are kept together on one worker where that saves fixture setup.
   */
  scope: string;
  /** A timeout declared on the test itself (`@pytest.mark.timeout(N)`), in seconds. */
  timeout: number | null;
  /**
   * Keyword arguments of the test's closest `@pytest.mark.bulkhead(...)`, as JSON, unvalidated
   * (config/ validates them with the override keys); null when it has none.
   */
  bulkheadMarker: Record<string, unknown> | null;
  /** The name given by `@pytest.mark.xdist_group(name)`, or null. */
  xdistGroup: string | null;
}

/** A process a test left running after it ended. */
export interface LeakedProcess {
  pid: number;
  cmd: string;
  /** Kernel start time (clock ticks since boot): tells this process from a later one with its pid. */
  startTime: number;
}

export type WorkerId = number;
