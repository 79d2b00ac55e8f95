/**
 * The pytest worker protocol, supervisor side. One newline-delimited JSON object per message, on
 * a dedicated channel (fd 3), never on stdout/stderr. Every incoming message is validated here;
 * anything that does not parse is a protocol violation by that worker, never a crash of ours.
 * The Python side is python/bulkhead_pytest/worker.py.
 *
 * Cross-worker locks (python/bulkhead_pytest/locks.py) add two requests (`lock_acquire`,
 * `lock_release`) and one answer (`lock_granted`). They need no new protocol version: a worker
 * sends them only when a test takes a lock, and worker and supervisor ship in one package.
 */
import { z } from 'zod';

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
  }),
  z.object({ type: z.literal('heartbeat') }),
  z.object({ type: z.literal('warning'), warning }),
  z.object({ type: z.literal('stolen'), indices: z.array(z.number().int()) }),
  z.object({ type: z.literal('internal_error'), text: z.string() }),
  z.object({ type: z.literal('done'), exitstatus: z.number().int() }),
]);

export type WorkerMessage = z.infer<typeof workerMessage>;

/**
 * A test's thread asks for a lock and blocks until it is granted; it gives it back with its token.
 * `token` is unique within one worker; a release of a token that is queued withdraws the request,
 * and a release of an unknown token does nothing (releases are idempotent).
 */
export const lockRequest = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('lock_acquire'),
    name: z.string().min(1),
    permits: z.number().int().min(1),
    token: z.string().min(1),
  }),
  z.object({ type: z.literal('lock_release'), token: z.string().min(1) }),
]);

export type LockRequest = z.infer<typeof lockRequest>;

/** Everything a worker may send: its session messages and its lock requests. */
const anyWorkerMessage = z.discriminatedUnion('type', [...workerMessage.options, ...lockRequest.options]);

export type AnyWorkerMessage = WorkerMessage | LockRequest;

/** Commands the supervisor sends to a worker. Tests are named by their index in the collection. */
export type WorkerCommand =
  /** `threads`: tests (by index) that reserve more than one CPU slot, and how many threads they get. */
  | { type: 'run'; indices: number[]; threads?: Record<string, number> }
  | { type: 'steal'; indices: number[] }
  | { type: 'finish' }
  /** Run the lone held test without a successor, then wait for more. */
  | { type: 'flush' }
  | { type: 'stop' }
  | { type: 'lock_granted'; token: string; waitedSeconds: number };

export type Decoded<T> = { ok: true; message: T } | { ok: false; error: string };

export type DecodeResult = Decoded<WorkerMessage>;

/** A worker's session messages only: a lock request is rejected as invalid. */
export function decodeWorkerMessage(line: string): DecodeResult {
  return decodeWith(workerMessage, line);
}

/** Any line a worker may send, lock requests included (route those with `isLockRequest`). */
export function decodeWorkerLine(line: string): Decoded<AnyWorkerMessage> {
  return decodeWith(anyWorkerMessage, line);
}

export function isLockRequest(message: AnyWorkerMessage): message is LockRequest {
  return message.type === 'lock_acquire' || message.type === 'lock_release';
}

function decodeWith<T>(schema: z.ZodType<T>, line: string): Decoded<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, error: `not JSON: ${preview(line)}` };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(message)'}: ${issue.message}` : 'invalid';
    return { ok: false, error: `invalid message (${where}): ${preview(line)}` };
  }
  return { ok: true, message: parsed.data };
}

export function encodeCommand(command: WorkerCommand): string {
  return `${JSON.stringify(command)}\n`;
}

function preview(line: string): string {
  return line.length > 120 ? `${line.slice(0, 120)}...` : line;
}

/**
 * What python/bulkhead_pytest/coverage_combine.py answers on stdout, once the workers' coverage
 * is combined: pytest-cov's terminal summary as it wrote it, the total, and the fail-under verdict.
 */
export const coverageAnswer = z.object({
  writes: z.array(z.object({ text: z.string(), markup: z.record(z.string(), z.boolean()) })),
  total: z.number().nullable(),
  failedUnder: z.boolean(),
});
