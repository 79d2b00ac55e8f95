/**
 * The pytest worker protocol on the supervisor's side, in one place: every message a worker may
 * send and every command it accepts, as zod schemas of the wire format. One newline-delimited
 * JSON object per message, on a dedicated channel (fd 3), never on stdout/stderr. The Python side
 * is python/bulkhead_pytest/protocol.py; test/fixtures/protocol-samples.json holds samples both
 * sides must accept (and reject) alike (test/adapters/pytest/contract.test.ts,
 * python/tests/test_protocol_contract.py).
 *
 * These are pytest-shaped; decode.ts turns them into the neutral messages the run handles
 * (src/adapters/messages.ts). Additions a worker and supervisor of one package both know (lock
 * requests, `protocol_error`) need no new version: they ship together.
 */
import { z } from 'zod';
import type { WorkerCommand } from '../messages.js';

export const PROTOCOL_VERSION = 1;

const skipInfo = z.object({
  path: z.string(),
  line: z.number().int().nullable(),
  reason: z.string(),
  foldPath: z.string(),
  foldLine: z.number().int().nullable(),
});

/** JUnit as pytest's junitxml rendered it in the worker (src/model/junit.ts; python/bulkhead_pytest/junit.py). */
const pair = z.tuple([z.string(), z.string()]);

const junitFragment = z.object({
  cases: z.array(z.string()),
  open: z.object({ attrs: z.array(pair), time: z.number(), children: z.string() }).nullable(),
  stats: z.object({ passed: z.number().int(), failure: z.number().int(), error: z.number().int(), skipped: z.number().int() }),
  doubleFail: z.number().int(),
  suiteProperties: z.array(pair),
});

const junitCollectCase = z.object({ xml: z.string(), order: z.number().int() });

const junitSession = z.object({
  xmlpath: z.string().nullable(),
  prefix: z.string().nullable(),
  family: z.string(),
  envelope: z.object({ declaration: z.string(), testsuites: z.array(pair), testsuite: z.array(pair) }),
});

const coverageSession = z.object({ options: z.record(z.string(), z.unknown()), topdir: z.string() });

const phaseReport = z.object({
  testId: z.string(),
  when: z.enum(['setup', 'call', 'teardown']),
  outcome: z.enum(['passed', 'failed', 'skipped']),
  category: z.string(),
  letter: z.string(),
  word: z.string(),
  duration: z.number(),
  longrepr: z.string(),
  longreprTerminal: z.string(),
  crashMessage: z.string().nullable(),
  skip: skipInfo.nullable(),
  wasxfail: z.string().nullable(),
  headLine: z.string(),
  sections: z.array(z.tuple([z.string(), z.string()])),
  userProperties: z.array(z.tuple([z.string(), z.string()])),
  summaryLine: z.string(),
  location: z.object({ file: z.string(), line: z.number().int().nullable(), domain: z.string() }),
  junit: junitFragment.nullable().default(null),
});

const collectError = z.object({
  nodeid: z.string(),
  summaryLine: z.string(),
  longrepr: z.string(),
  longreprTerminal: z.string(),
  crashMessage: z.string().nullable(),
  junit: junitCollectCase.nullable().default(null),
});

const collectedTest = z.object({
  id: z.string(),
  file: z.string(),
  line: z.number().int().nullable(),
  markers: z.array(z.string()),
  scope: z.string(),
  timeout: z.number().nullable(),
  bulkheadMarker: z.record(z.string(), z.unknown()).nullable().default(null),
  xdistGroup: z.string().nullable().default(null),
});

const leakedProcess = z.object({ pid: z.number().int(), cmd: z.string(), startTime: z.number().int() });

/** One lock a test took, and how long it waited for it. */
const lockAcquisition = z.object({ name: z.string(), waitedSeconds: z.number().nonnegative() });

const warning = z.object({
  message: z.string(),
  location: z.string(),
  category: z.string(),
  filename: z.string(),
  lineno: z.number().int(),
  nodeid: z.string(),
  when: z.string(),
});

export const workerMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    protocol: z.number().int(),
    pid: z.number().int(),
    python: z.string(),
    pytest: z.string(),
  }),
  z.object({
    type: z.literal('session'),
    rootdir: z.string(),
    headerLines: z.array(z.string()),
    verbosity: z.number().int(),
    color: z.boolean(),
    reportChars: z.string(),
    durations: z.number().int().nullable(),
    durationsMin: z.number().nullable(),
    tbStyle: z.string(),
    showCapture: z.string(),
    maxfail: z.number().int(),
    continueOnCollectionErrors: z.boolean(),
    xdistRequested: z.string().nullable(),
    iniTimeout: z.number().nullable(),
    pythonVersion: z.string(),
    pytestVersion: z.string(),
    junit: junitSession.nullable().default(null),
    coverage: coverageSession.nullable().default(null),
  }),
  z.object({ type: z.literal('collect_error'), report: collectError }),
  z.object({
    type: z.literal('collect_skip'),
    report: z.object({ nodeid: z.string(), longrepr: z.string(), skip: skipInfo, junit: junitCollectCase.nullable().default(null) }),
  }),
  z.object({
    type: z.literal('collected'),
    tests: z.array(collectedTest),
    deselected: z.number().int(),
    errors: z.number().int(),
    interrupted: z.string().nullable(),
    /** Set when pytest ended the session during collection (e.g. 4: a path that does not exist). */
    exitstatus: z.number().int().nullable(),
  }),
  z.object({ type: z.literal('started'), id: z.string() }),
  z.object({ type: z.literal('report'), report: phaseReport }),
  z.object({
    type: z.literal('finished'),
    id: z.string(),
    leaked: z.array(leakedProcess),
    memory: z.object({ baselineBytes: z.number(), peakBytes: z.number(), residentBytes: z.number().nullable().default(null) }).nullable(),
    locks: z.array(lockAcquisition).default([]),
    /** Phases that passed with nothing to show, as [when, duration]: no `report` was sent for them. */
    plain: z.array(z.tuple([z.enum(['setup', 'call', 'teardown']), z.number()])).default([]),
  }),
  z.object({ type: z.literal('heartbeat') }),
  z.object({ type: z.literal('warning'), warning }),
  z.object({ type: z.literal('stolen'), indices: z.array(z.number().int()) }),
  z.object({ type: z.literal('internal_error'), text: z.string() }),
  /** The worker could not read a command (`error`, with the path of the bad field): it is ending. */
  z.object({ type: z.literal('protocol_error'), error: z.string(), command: z.string() }),
  z.object({ type: z.literal('done'), exitstatus: z.number().int() }),
]);

export type WireMessage = z.infer<typeof workerMessage>;

export const lockRequest = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('lock_acquire'),
    name: z.string().min(1),
    permits: z.number().int().min(1),
    token: z.string().min(1),
  }),
  z.object({ type: z.literal('lock_release'), token: z.string().min(1) }),
]);

/** Everything a worker may send: its session messages and its lock requests. */
export const anyWorkerMessage = z.discriminatedUnion('type', [...workerMessage.options, ...lockRequest.options]);

export type AnyWireMessage = z.infer<typeof anyWorkerMessage>;

/** A test's index in the collection, and the same as a JSON object key. */
const index = z.number().int().nonnegative();
const indexKey = z.string().regex(/^(0|[1-9][0-9]*)$/);

/** The commands a worker accepts (python/bulkhead_pytest/protocol.py validates each one it reads). */
export const workerCommand = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run'), indices: z.array(index), threads: z.record(indexKey, z.number().int().min(1)).optional() }),
  z.object({ type: z.literal('steal'), indices: z.array(index) }),
  z.object({ type: z.literal('finish') }),
  z.object({ type: z.literal('flush') }),
  z.object({ type: z.literal('stop') }),
  z.object({ type: z.literal('lock_granted'), token: z.string().min(1), waitedSeconds: z.number().nonnegative() }),
]);

/** The neutral commands are the wire's as they are: this fails to compile if the two drift apart. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const commandsMatch: Same<z.infer<typeof workerCommand>, WorkerCommand> = true;
void commandsMatch;

/**
 * What python/bulkhead_pytest/coverage_combine.py answers on stdout, once the workers' coverage
 * is combined: pytest-cov's terminal summary as it wrote it, the total, and the fail-under verdict.
 */
export const coverageAnswer = z.object({
  writes: z.array(z.object({ text: z.string(), markup: z.record(z.string(), z.boolean()) })),
  total: z.number().nullable(),
  failedUnder: z.boolean(),
});
