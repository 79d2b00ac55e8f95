/**
 * JUnit XML as pytest's own junitxml plugin rendered it in the worker
 * (python/bulkhead_pytest/junit.py). The supervisor assembles the file: the testcases are
 * pytest's, the suite around them is filled with the whole run's counts.
 */

/** pytest's `LogXML.stats`: what its counts (and the suite's `tests`) are made of. */
export interface JunitStats {
  passed: number;
  failure: number;
  error: number;
  skipped: number;
}

/** A testcase pytest has not finalized yet, in parts, for the supervisor to finish if the worker dies. */
export interface JunitOpenCase {
  /** Its attributes as pytest names it (classname, name; file and line in xunit1; record_xml_attribute's). */
  attrs: Array<[string, string]>;
  /** Seconds counted so far (junit_duration_report decides which phases count). */
  time: number;
  /** Its child elements so far, rendered by pytest (failure, skipped, system-out, ...). */
  children: string;
}

/**
 * Everything pytest's LogXML made of one test since it started, sent with each of its reports:
 * the last one received is the test's whole rendering.
 */
export interface JunitFragment {
  /** The test's testcases pytest finalized, rendered (two when a failed call is followed by a teardown error). */
  cases: string[];
  open: JunitOpenCase | null;
  stats: JunitStats;
  /** pytest's `cnt_double_fail_tests`: testcases that do not count as a test of their own. */
  doubleFail: number;
  /** `record_testsuite_property` calls made during the test: [name, value], value escaped by pytest. */
  suiteProperties: Array<[string, string]>;
}

/** A collection error or skip, as the testcase pytest writes for it. */
export interface JunitCollectCase {
  xml: string;
  /** Its place among the worker's collection reports (pytest writes them in that order). */
  order: number;
}

/** The JUnit settings of the pytest session, as its config resolved them (ini, -o, arguments). */
export interface JunitSession {
  /** `--junitxml` (given after `--` or in addopts), absolute: bulkhead writes this file. */
  xmlpath: string | null;
  /** `--junit-prefix`. */
  prefix: string | null;
  /** `junit_family`, with `legacy` already read as `xunit1`. */
  family: string;
  envelope: JunitEnvelope;
}

/**
 * What this pytest writes around the testcases, from an empty suite it wrote: the declaration,
 * and the attributes of `<testsuites>` and `<testsuite>` in pytest's order.
 */
export interface JunitEnvelope {
  declaration: string;
  testsuites: Array<[string, string]>;
  testsuite: Array<[string, string]>;
}
