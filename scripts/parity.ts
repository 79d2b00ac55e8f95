/**
 * Parity check: runs plain pytest and `bulkhead run` on the same pytest arguments, each writing
 * JUnit XML, and compares the outcome of every test case.
 *
 *   node dist/scripts/parity.js [--workers N] [--cwd DIR] [--python PY] [--memory-cap SIZE] [--xdist]
 *                               [--keep] [--verbose] [--] [pytest args...]
 *
 * With `--memory-cap 20G` every tool runs inside a cgroup v1 memory cgroup of its own, capped at
 * that size, made under this process's own memory cgroup and removed after (numpy has three tests
 * of about 16 GiB: two side by side would take a 24 GiB machine down); the report adds each tool's
 * peak there and the OOM kills at its cap. With `--xdist`, pytest-xdist (`-n WORKERS`) runs too,
 * and is compared with plain pytest the same way, as the reference for what parallelism alone
 * changes (`--xdist-path DIR` goes on PYTHONPATH for that run only, for an interpreter without it).
 *
 * Default pytest arguments: `--pyargs networkx -p no:benchmark`. Runs, one after the other:
 *
 *   <python> -m pytest --junitxml A <args>
 *   node dist/src/cli/main.js run --workers N --python <python> --junit B -- <args>
 *
 * Compared per test id (`classname::name`; ids can repeat, for instance when pytest writes an empty
 * classname for modules outside its rootdir, so each id holds a multiset of cases): the outcome
 * (passed, failure, error with its kind, skipped with its `type` and `message`). Failure and error
 * texts (tracebacks, timings, pids) are not compared. Also compared: the `<testsuite>` totals and
 * the two exit codes. The texts of `<skipped>` elements are reported as a note, never a failure.
 * The whole documents are also compared once times, timestamps and hostnames are set aside, and
 * reported (a note: a full suite's failure texts can hold addresses and timings that differ).
 *
 * Exit status: 0 when identical, 1 when they differ, 2 when a run wrote no XML or usage is wrong.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseBytes } from '../src/util/bytes.js';
import { CappedCgroup } from '../test/support/memory-cgroup.js';

export const DEFAULT_PYTEST_ARGS = ['--pyargs', 'networkx', '-p', 'no:benchmark'];
const BULKHEAD_CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

// -- a small XML parser ------------------------------------------------------------------------

export interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/g, (whole, body: string) => {
    if (body.startsWith('#x')) return String.fromCodePoint(parseInt(body.slice(2), 16));
    if (body.startsWith('#')) return String.fromCodePoint(parseInt(body.slice(1), 10));
    return NAMED_ENTITIES[body] ?? whole;
  });
}

/**
 * Parses an XML document into elements with attributes and text (text from every text and CDATA
 * chunk directly inside the element, concatenated). Enough for JUnit XML: no namespaces, no DTD
 * entities; the declaration, comments, processing instructions and doctype are skipped. Throws
 * on malformed input (unclosed or mismatched tags), which a truncated file produces.
 */
export function parseXml(source: string): XmlNode {
  const root: XmlNode = { tag: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlNode[] = [root];
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`XML: ${what} at offset ${i}`);
  };
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const top = stack[stack.length - 1]!;
    if (lt < 0) {
      top.text += decodeEntities(source.slice(i));
      break;
    }
    if (lt > i) top.text += decodeEntities(source.slice(i, lt));
    i = lt;
    if (source.startsWith('<!--', i)) {
      const end = source.indexOf('-->', i + 4);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
    } else if (source.startsWith('<![CDATA[', i)) {
      const end = source.indexOf(']]>', i + 9);
      if (end < 0) fail('unterminated CDATA');
      top.text += source.slice(i + 9, end);
      i = end + 3;
    } else if (source.startsWith('<?', i)) {
      const end = source.indexOf('?>', i + 2);
      if (end < 0) fail('unterminated processing instruction');
      i = end + 2;
    } else if (source.startsWith('<!', i)) {
      const end = source.indexOf('>', i + 2);
      if (end < 0) fail('unterminated declaration');
      i = end + 1;
    } else if (source.startsWith('</', i)) {
      const end = source.indexOf('>', i + 2);
      if (end < 0) fail('unterminated end tag');
      const name = source.slice(i + 2, end).trim();
      if (stack.length < 2 || top.tag !== name) fail(`</${name}> does not close <${top.tag}>`);
      stack.pop();
      i = end + 1;
    } else {
      i = parseStartTag(source, i + 1, stack, fail);
    }
  }
  if (stack.length > 1) throw new Error(`XML: <${stack[stack.length - 1]!.tag}> is never closed (truncated file?)`);
  return root;
}

/** Parses `name attr="v" ...>` or `... />` from `start` (just after `<`); returns the next offset. */
function parseStartTag(source: string, start: number, stack: XmlNode[], fail: (what: string) => never): number {
  const nameMatch = /^[^\s/>]+/.exec(source.slice(start, start + 256));
  if (!nameMatch) fail('element without a name');
  const node: XmlNode = { tag: nameMatch![0], attrs: {}, children: [], text: '' };
  let i = start + nameMatch![0].length;
  const attribute = /\s*([^\s=/>]+)\s*=\s*("([^"]*)"|'([^']*)')/y;
  for (;;) {
    while (i < source.length && /\s/.test(source[i]!)) i++;
    if (i >= source.length) fail(`unterminated <${node.tag}>`);
    if (source.startsWith('/>', i)) {
      stack[stack.length - 1]!.children.push(node);
      return i + 2;
    }
    if (source[i] === '>') {
      stack[stack.length - 1]!.children.push(node);
      stack.push(node);
      return i + 1;
    }
    attribute.lastIndex = i;
    const match = attribute.exec(source);
    if (!match) fail(`bad attribute in <${node.tag}>`);
    // Attribute-value normalisation: literal whitespace becomes a space, references are kept.
    const raw = (match![3] ?? match![4] ?? '').replace(/[\t\n\r]/g, ' ');
    node.attrs[match![1]!] = decodeEntities(raw);
    i = attribute.lastIndex;
  }
}

export function* descendants(node: XmlNode, tag: string): Generator<XmlNode> {
  for (const child of node.children) {
    if (child.tag === tag) yield child;
    yield* descendants(child, tag);
  }
}

// -- JUnit cases -------------------------------------------------------------------------------

export type Category = 'passed' | 'failure' | 'error' | 'skipped (pytest.skip)' | 'xfailed (pytest.xfail)' | 'skipped (no type)';
export const CATEGORIES: readonly Category[] = [
  'passed',
  'failure',
  'error',
  'skipped (pytest.skip)',
  'xfailed (pytest.xfail)',
  'skipped (no type)',
];

export interface JunitCase {
  id: string;
  category: Category;
  /** What is compared: the outcome, with the skip type and message or the error's kind. */
  signature: string;
  /** Texts of the `<skipped>` children (informational). */
  skipTexts: string[];
}

export interface JunitFile {
  cases: JunitCase[];
  /** `<testsuite>` totals, summed over suites: tests, failures, errors, skipped. */
  totals: Record<'tests' | 'failures' | 'errors' | 'skipped', number>;
}

const RESULT_TAGS = new Set(['failure', 'error', 'skipped']);

/** The kind of an `<error>`: pytest writes `failed on setup with "..."`, `collection failure`, ... */
function errorKind(message: string): string {
  const match = /^(failed on \w+|collection failure)/.exec(message);
  return match ? match[1]! : 'other';
}

export function junitCases(document: XmlNode): JunitFile {
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const suite of descendants(document, 'testsuite')) {
    for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += Number(suite.attrs[key] ?? 0);
  }
  const cases: JunitCase[] = [];
  for (const testcase of descendants(document, 'testcase')) {
    const results = testcase.children.filter((child) => RESULT_TAGS.has(child.tag));
    const parts: string[] = [];
    for (const result of results) {
      const type = result.attrs.type === undefined ? '' : `[${result.attrs.type}]`;
      if (result.tag === 'skipped') parts.push(`skipped${type} ${JSON.stringify(result.attrs.message ?? '')}`);
      else if (result.tag === 'error') parts.push(`error${type} (${errorKind(result.attrs.message ?? '')})`);
      else parts.push(`failure${type}`);
    }
    const first = results[0];
    let category: Category = 'passed';
    if (first?.tag === 'failure') category = 'failure';
    else if (first?.tag === 'error') category = 'error';
    else if (first?.tag === 'skipped') {
      category =
        first.attrs.type === 'pytest.skip'
          ? 'skipped (pytest.skip)'
          : first.attrs.type === 'pytest.xfail'
            ? 'xfailed (pytest.xfail)'
            : 'skipped (no type)';
    }
    cases.push({
      id: `${testcase.attrs.classname ?? ''}::${testcase.attrs.name ?? ''}`,
      category,
      signature: parts.length === 0 ? 'passed' : parts.join(' + '),
      skipTexts: results.filter((result) => result.tag === 'skipped').map((result) => result.text),
    });
  }
  return { cases, totals };
}

export function readJunit(path: string): JunitFile {
  return junitCases(parseXml(readFileSync(path, 'utf8')));
}

// -- comparison --------------------------------------------------------------------------------

export interface Difference {
  id: string;
  pytest: string[];
  bulkhead: string[];
}

export interface Comparison {
  identical: boolean;
  counts: { pytest: Record<Category, number>; bulkhead: Record<Category, number> };
  cases: { pytest: number; bulkhead: number };
  /** Ids that occur more than once, and how many cases they hold, per side. */
  duplicates: { pytest: { ids: number; cases: number }; bulkhead: { ids: number; cases: number } };
  differences: Difference[];
  totals: { pytest: JunitFile['totals']; bulkhead: JunitFile['totals']; equal: boolean };
  /** Ids whose outcomes agree but whose `<skipped>` texts differ (not counted as a difference). */
  skipTextDifferences: Array<{ id: string; pytest: string[]; bulkhead: string[] }>;
}

function groupById(cases: readonly JunitCase[]): Map<string, JunitCase[]> {
  const groups = new Map<string, JunitCase[]>();
  for (const testCase of cases) {
    const group = groups.get(testCase.id);
    if (group) group.push(testCase);
    else groups.set(testCase.id, [testCase]);
  }
  return groups;
}

function countCategories(cases: readonly JunitCase[]): Record<Category, number> {
  const counts = Object.fromEntries(CATEGORIES.map((category) => [category, 0])) as Record<Category, number>;
  for (const testCase of cases) counts[testCase.category] += 1;
  return counts;
}

function duplicateStats(groups: Map<string, JunitCase[]>): { ids: number; cases: number } {
  let ids = 0;
  let cases = 0;
  for (const group of groups.values()) {
    if (group.length > 1) {
      ids += 1;
      cases += group.length;
    }
  }
  return { ids, cases };
}

export function compareJunit(pytest: JunitFile, bulkhead: JunitFile): Comparison {
  const left = groupById(pytest.cases);
  const right = groupById(bulkhead.cases);
  const differences: Difference[] = [];
  const skipTextDifferences: Comparison['skipTextDifferences'] = [];
  const ids = new Set([...left.keys(), ...right.keys()]);
  for (const id of ids) {
    // Order within an id is not compared: bulkhead's workers finish tests in a different order.
    const a = (left.get(id) ?? []).map((c) => c.signature).sort();
    const b = (right.get(id) ?? []).map((c) => c.signature).sort();
    if (a.length !== b.length || a.some((signature, index) => signature !== b[index])) {
      differences.push({ id, pytest: a, bulkhead: b });
      continue;
    }
    const textsA = (left.get(id) ?? []).flatMap((c) => c.skipTexts).sort();
    const textsB = (right.get(id) ?? []).flatMap((c) => c.skipTexts).sort();
    if (textsA.length !== textsB.length || textsA.some((text, index) => text !== textsB[index])) {
      skipTextDifferences.push({ id, pytest: textsA, bulkhead: textsB });
    }
  }
  const totalsEqual = (Object.keys(pytest.totals) as Array<keyof JunitFile['totals']>).every(
    (key) => pytest.totals[key] === bulkhead.totals[key],
  );
  return {
    identical: differences.length === 0 && totalsEqual,
    counts: { pytest: countCategories(pytest.cases), bulkhead: countCategories(bulkhead.cases) },
    cases: { pytest: pytest.cases.length, bulkhead: bulkhead.cases.length },
    duplicates: { pytest: duplicateStats(left), bulkhead: duplicateStats(right) },
    differences,
    totals: { pytest: pytest.totals, bulkhead: bulkhead.totals, equal: totalsEqual },
    skipTextDifferences,
  };
}

// -- running the two tools ---------------------------------------------------------------------

export interface ParityOptions {
  pytestArgs: string[];
  workers: number;
  cwd: string;
  python: string;
  /** Folder for the XML files and logs; a temporary one (removed unless keep) when null. */
  outDir: string | null;
  keep: boolean;
  verbose: boolean;
  /** Run each tool inside a memory cgroup of its own capped at this many bytes; null: no cgroup. */
  memoryCapBytes: number | null;
  /** Also run pytest-xdist (`-n workers`) and compare it with plain pytest. */
  xdist: boolean;
  /** Put on PYTHONPATH for the xdist run only (an interpreter without xdist can borrow Debian's). */
  xdistPath: string | null;
}

interface ToolRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
  log: string;
  /** In its capped cgroup: the peak, and the OOM kills at the cap itself. */
  memory: { peakBytes: number; oomKills: number } | null;
}

async function runTool(command: string, args: string[], cwd: string, log: string, options: ParityOptions, env: NodeJS.ProcessEnv = process.env): Promise<ToolRun> {
  if (options.memoryCapBytes === null) return { ...(await spawnTool(command, args, cwd, log, options.verbose, env)), memory: null };
  const cgroup = CappedCgroup.create(`bulkhead-parity-${process.pid}-${Date.now()}`, options.memoryCapBytes);
  try {
    const wrapped = cgroup.wrap(command, args);
    const run = await spawnTool(wrapped.command, wrapped.args, cwd, log, options.verbose, env);
    return { ...run, memory: { peakBytes: cgroup.peakBytes(), oomKills: cgroup.oomKills() } };
  } finally {
    cgroup.remove();
  }
}

function spawnTool(command: string, args: string[], cwd: string, log: string, verbose: boolean, env: NodeJS.ProcessEnv): Promise<Omit<ToolRun, 'memory'>> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const out = verbose ? null : createWriteStream(log);
    const child = spawn(command, args, { cwd, env, stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    if (out) {
      child.stdout!.pipe(out, { end: false });
      child.stderr!.pipe(out, { end: false });
    }
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      const finish = (): void =>
        resolvePromise({ exitCode, signal, seconds: (performance.now() - started) / 1000, log });
      if (out) out.end(finish);
      else finish();
    });
  });
}

function tail(path: string, lines = 30): string {
  if (!existsSync(path)) return '(no log)';
  return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
}

export interface ParityResult {
  comparison: Comparison | null;
  pytest: ToolRun;
  bulkhead: ToolRun;
  /** pytest-xdist and its comparison with plain pytest, when asked for. */
  xdist: { run: ToolRun; comparison: Comparison | null } | null;
  exitCodesEqual: boolean;
  /** Where the whole documents differ once times, timestamps and hostnames are set aside; null when they do not. */
  documentDifference: string | null;
  /** Set when a run wrote no readable XML. */
  error: string | null;
}

export async function runParity(options: ParityOptions): Promise<ParityResult> {
  const dir = options.outDir ?? mkdtempSync(join(tmpdir(), 'bulkhead-parity-'));
  const xmlA = join(dir, 'pytest.xml');
  const xmlB = join(dir, 'bulkhead.xml');
  const xmlC = join(dir, 'xdist.xml');
  try {
    const pytest = await runTool(options.python, ['-m', 'pytest', '--junitxml', xmlA, ...options.pytestArgs], options.cwd, join(dir, 'pytest.log'), options);
    const bulkhead = await runTool(
      process.execPath,
      [BULKHEAD_CLI, 'run', '--workers', String(options.workers), '--python', options.python, '--junit', xmlB, '--', ...options.pytestArgs],
      options.cwd,
      join(dir, 'bulkhead.log'),
      options,
    );
    const xdistRun = options.xdist
      ? await runTool(options.python, ['-m', 'pytest', '-n', String(options.workers), '--junitxml', xmlC, ...options.pytestArgs], options.cwd, join(dir, 'xdist.log'), options, {
          ...process.env,
          ...(options.xdistPath ? { PYTHONPATH: [options.xdistPath, process.env.PYTHONPATH].filter(Boolean).join(':') } : {}),
        })
      : null;
    const exitCodesEqual = pytest.exitCode === bulkhead.exitCode;
    let a: JunitFile;
    let b: JunitFile;
    const xdist = xdistRun ? { run: xdistRun, comparison: null as Comparison | null } : null;
    const unread = { comparison: null, pytest, bulkhead, xdist, exitCodesEqual, documentDifference: null };
    try {
      a = readJunit(xmlA);
    } catch (error) {
      return { ...unread, error: `pytest's XML: ${String(error)}\n${tail(pytest.log)}` };
    }
    if (xdist) {
      try {
        xdist.comparison = compareJunit(a, readJunit(xmlC));
      } catch {
        xdist.comparison = null; // reported as "no XML"; the bulkhead comparison still stands
      }
    }
    try {
      b = readJunit(xmlB);
    } catch (error) {
      return { ...unread, error: `bulkhead's XML: ${String(error)}\n${tail(bulkhead.log)}` };
    }
    const documentDifference = firstDifference(withoutTimes(readFileSync(xmlA, 'utf8')), withoutTimes(readFileSync(xmlB, 'utf8')));
    return { comparison: compareJunit(a, b), pytest, bulkhead, xdist, exitCodesEqual, documentDifference, error: null };
  } finally {
    if (options.outDir === null && !options.keep) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`parity: XML files and logs kept in ${dir}\n`);
  }
}

// -- whole documents -----------------------------------------------------------------------------

/** The document without its `time`, `timestamp` and `hostname` attributes: what differs between any two runs. */
export function withoutTimes(xml: string): string {
  // Attribute values never hold a double quote (ElementTree escapes it), so this stays inside one.
  return xml.replace(/ (?:time|timestamp|hostname)="[^"]*"/g, '');
}

/** Where two documents first differ, with some context on each side; null when they are equal. */
export function firstDifference(expected: string, actual: string, context = 300): string | null {
  if (expected === actual) return null;
  let at = 0;
  while (at < expected.length && at < actual.length && expected[at] === actual[at]) at++;
  const around = (text: string): string => JSON.stringify(text.slice(Math.max(0, at - context), at + context));
  return `documents differ at offset ${at} (lengths ${expected.length} and ${actual.length})\n  pytest:   ${around(expected)}\n  bulkhead: ${around(actual)}`;
}

// -- report ------------------------------------------------------------------------------------

export function formatReport(result: ParityResult, shown = 50): string {
  const lines: string[] = [];
  const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  const describe = (run: ToolRun): string =>
    `exit ${run.exitCode ?? `signal ${run.signal}`} in ${run.seconds.toFixed(1)} s` +
    (run.memory ? `; peak ${gib(run.memory.peakBytes)} in its capped cgroup, ${run.memory.oomKills} OOM kills at the cap` : '');
  lines.push(`pytest:   ${describe(result.pytest)}`);
  lines.push(`bulkhead: ${describe(result.bulkhead)}`);
  if (result.xdist) {
    lines.push(`xdist:    ${describe(result.xdist.run)}`);
    const x = result.xdist.comparison;
    lines.push(
      x === null
        ? 'xdist vs pytest: no XML to compare'
        : `xdist vs pytest: ${x.differences.length} differing ids${x.differences.length > 0 ? `: ${x.differences.slice(0, 10).map((d) => `${d.id} (pytest ${d.pytest.join('|') || 'absent'}, xdist ${d.bulkhead.join('|') || 'absent'})`).join('; ')}` : ''}`,
    );
  }
  if (result.error !== null || result.comparison === null) {
    lines.push(`parity: cannot compare: ${result.error ?? 'no comparison'}`);
    return lines.join('\n');
  }
  const c = result.comparison;
  const width = Math.max(...CATEGORIES.map((category) => category.length), 'test cases'.length);
  lines.push('');
  lines.push(`${'outcome'.padEnd(width)}  ${'pytest'.padStart(8)}  ${'bulkhead'.padStart(8)}`);
  for (const category of CATEGORIES) {
    const mark = c.counts.pytest[category] === c.counts.bulkhead[category] ? '' : '  <-- differs';
    lines.push(`${category.padEnd(width)}  ${String(c.counts.pytest[category]).padStart(8)}  ${String(c.counts.bulkhead[category]).padStart(8)}${mark}`);
  }
  lines.push(`${'test cases'.padEnd(width)}  ${String(c.cases.pytest).padStart(8)}  ${String(c.cases.bulkhead).padStart(8)}`);
  lines.push('');
  const dup = c.duplicates;
  lines.push(`repeated ids: pytest ${dup.pytest.ids} ids holding ${dup.pytest.cases} cases; bulkhead ${dup.bulkhead.ids} ids holding ${dup.bulkhead.cases} cases`);
  const totals = (t: JunitFile['totals']): string => `tests=${t.tests} failures=${t.failures} errors=${t.errors} skipped=${t.skipped}`;
  lines.push(`suite totals: pytest ${totals(c.totals.pytest)}; bulkhead ${totals(c.totals.bulkhead)}${c.totals.equal ? '' : '  <-- differ'}`);
  lines.push(`exit codes: pytest ${result.pytest.exitCode}, bulkhead ${result.bulkhead.exitCode}${result.exitCodesEqual ? '' : '  <-- differ'}`);
  lines.push(
    result.documentDifference === null
      ? 'documents: IDENTICAL once times, timestamps and hostnames are set aside'
      : `documents: DIFFERENT (a note) ${result.documentDifference}`,
  );
  if (c.differences.length > 0) {
    lines.push('');
    lines.push(`differing ids: ${c.differences.length}${c.differences.length > shown ? ` (first ${shown})` : ''}`);
    for (const difference of c.differences.slice(0, shown)) {
      lines.push(`  ${difference.id}`);
      lines.push(`    pytest:   ${difference.pytest.length === 0 ? '(absent)' : difference.pytest.join(' | ')}`);
      lines.push(`    bulkhead: ${difference.bulkhead.length === 0 ? '(absent)' : difference.bulkhead.join(' | ')}`);
    }
  }
  if (c.skipTextDifferences.length > 0) {
    lines.push('');
    lines.push(`note: ${c.skipTextDifferences.length} ids agree on outcome but not on the <skipped> element's text (not a parity failure); first:`);
    for (const note of c.skipTextDifferences.slice(0, 3)) {
      lines.push(`  ${note.id}`);
      lines.push(`    pytest:   ${JSON.stringify(note.pytest)}`);
      lines.push(`    bulkhead: ${JSON.stringify(note.bulkhead)}`);
    }
  }
  lines.push('');
  lines.push(parityHolds(result) ? 'parity: IDENTICAL' : 'parity: DIFFERENT');
  return lines.join('\n');
}

export function parityHolds(result: ParityResult): boolean {
  return result.error === null && result.comparison !== null && result.comparison.identical && result.exitCodesEqual;
}

// -- command line ------------------------------------------------------------------------------

const USAGE =
  'usage: node dist/scripts/parity.js [--workers N] [--cwd DIR] [--python PY] [--out DIR] [--memory-cap SIZE] [--xdist] [--xdist-path DIR] [--keep] [--verbose] [--] [pytest args...]';

export function parseArgs(argv: readonly string[]): ParityOptions {
  const options: ParityOptions = {
    pytestArgs: [],
    workers: 2,
    cwd: process.cwd(),
    python: process.env.BULKHEAD_PYTHON ?? 'python3',
    outDir: null,
    keep: false,
    verbose: false,
    memoryCapBytes: null,
    xdist: false,
    xdistPath: null,
  };
  let i = 0;
  const value = (flag: string): string => {
    const next = argv[++i];
    if (next === undefined) throw new Error(`${flag} needs a value`);
    return next;
  };
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (arg === '--workers') {
      options.workers = Number(value(arg));
      if (!Number.isInteger(options.workers) || options.workers < 1) throw new Error('--workers must be a positive integer');
    } else if (arg === '--cwd') options.cwd = resolve(value(arg));
    else if (arg === '--python') options.python = value(arg);
    else if (arg === '--out') options.outDir = resolve(value(arg));
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--xdist') options.xdist = true;
    else if (arg === '--xdist-path') options.xdistPath = resolve(value(arg));
    else if (arg === '--memory-cap') {
      options.memoryCapBytes = parseBytes(value(arg));
      if (options.memoryCapBytes === null || options.memoryCapBytes <= 0) throw new Error('--memory-cap must be a size such as 20G');
    }
    else if (arg === '--verbose') options.verbose = true;
    else if (arg === '-h' || arg === '--help') throw new Error('help');
    else break; // the first argument that is not ours starts the pytest arguments
  }
  const rest = argv.slice(i);
  options.pytestArgs = rest.length > 0 ? [...rest] : [...DEFAULT_PYTEST_ARGS];
  return options;
}

async function main(): Promise<void> {
  let options: ParityOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(message === 'help' ? `${USAGE}\n` : `parity: ${message}\n${USAGE}\n`);
    process.exit(message === 'help' ? 0 : 2);
  }
  process.stderr.write(`parity: pytest args: ${options.pytestArgs.join(' ')} (cwd ${options.cwd}, bulkhead --workers ${options.workers})\n`);
  const result = await runParity(options);
  process.stdout.write(`${formatReport(result)}\n`);
  process.exitCode = result.error !== null ? 2 : parityHolds(result) ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  void main();
}
