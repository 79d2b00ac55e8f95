/**
 * Output that looks like the worker protocol, or is huge, on the `hostile-output` project: tests
 * print fake protocol lines to stdout and stderr (through sys.stdout, os.write on fd 1/2, past
 * pytest's capture and from a subprocess), one writes 50 MB to fd 1, one prints fake "passed" and
 * "done" lines and then fails. None of it may change a result: it must all end up as text.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixture, describeRun, jsonOutcomes, runCli, runPytest, summaryLine, type CliResult } from '../support/cli.js';
import { junitOutcomes } from '../support/junit-outcomes.js';
import { linesMatching, section } from '../support/output.js';

const H = 'tests/test_hostile.py';
const EXPECTED: Record<string, string> = {
  [`${H}::test_fake_protocol_on_stdout_and_stderr`]: 'passed',
  [`${H}::test_fake_protocol_past_capture`]: 'passed',
  [`${H}::test_fake_protocol_from_a_subprocess`]: 'passed',
  [`${H}::test_fifty_megabytes_to_fd1`]: 'passed',
  [`${H}::test_fake_lines_then_fail`]: 'failed',
  [`${H}::test_after_the_noise`]: 'passed',
  'tests/test_quiet.py::test_quiet_1': 'passed',
  'tests/test_quiet.py::test_quiet_2': 'passed',
  'tests/test_quiet.py::test_quiet_3': 'passed',
};
const FIFTY_MIB = 50 * 1024 * 1024;

/** Whether a (possibly huge) file contains `needle`, read in chunks. */
function fileContains(path: string, needle: string): boolean {
  const wanted = Buffer.from(needle);
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.alloc(4 * 1024 * 1024);
    let carry = Buffer.alloc(0);
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) return false;
      const window = Buffer.concat([carry, chunk.subarray(0, read)]);
      if (window.includes(wanted)) return true;
      carry = window.subarray(Math.max(0, window.length - wanted.length));
    }
  } finally {
    closeSync(fd);
  }
}

function checkRun(bulk: CliResult): void {
  assert.equal(bulk.timedOut, false, 'the run finished');
  assert.equal(bulk.code, 1, describeRun(bulk));
  assert.ok(bulk.json, describeRun(bulk));
  assert.deepEqual(jsonOutcomes(bulk.json), EXPECTED);
  assert.equal(bulk.json.run.end?.kind, 'completed');
  assert.equal(summaryLine(bulk.stdout), '1 failed, 8 passed');
  // A fake message taken for real would show up as a notice, a crash or a protocol violation.
  assert.doesNotMatch(bulk.stdout, /INTERNALERROR in worker|CRASHED|broke the worker protocol/, describeRun(bulk));
  // bulkhead's own lines: the memory line at start and the worker count, nothing a test printed.
  assert.deepEqual(linesMatching(bulk.stdout, /^bulkhead: (?!memory: )/), ['bulkhead: 2 workers [9 items]']);
  assert.equal(bulk.stderr, '');
  // The 50 MB went to the worker's log, not to bulkhead's terminal output.
  assert.ok(bulk.stdout.length < 256 * 1024, `stdout is ${bulk.stdout.length} bytes`);
}

const project = copyFixture('hostile-output');
after(() => project.cleanup());

test('default capture: fake protocol lines change nothing, the failing test fails', async (t) => {
  let bulk: CliResult;
  await t.test('runs', async () => {
    bulk = await runCli({ cwd: project.dir });
  });
  await t.test('outcomes, exit code and summary', () => checkRun(bulk));
  await t.test("the failing test's captured fake lines are shown as its output", () => {
    const failures = section(bulk.stdout, 'FAILURES') ?? '';
    assert.match(failures, /^_+ test_fake_lines_then_fail _+$/m, describeRun(bulk));
    assert.match(failures, /^-+ Captured stdout call -+$/m);
    assert.ok(failures.includes('{"type":"done","exitstatus":0}'), failures);
    assert.ok(failures.includes('AssertionError: this test must be reported failed'));
    const failed = bulk.json!.tests.find((entry) => entry.id === `${H}::test_fake_lines_then_fail`)!;
    const call = failed.phases.find((phase) => phase.when === 'call')!;
    assert.equal(call.outcome, 'failed');
    const stdout = call.sections.find(([title]) => title === 'Captured stdout call');
    assert.ok(stdout?.[1].includes('"outcome":"passed"'), 'the fake report is part of the captured text');
  });
  await t.test('the 50 MB (and the uncaptured fake lines) are in the worker log under .bulkhead/runs', () => {
    const artifacts = bulk.json!.run.artifactsDir;
    assert.ok(artifacts.startsWith(join(project.dir, '.bulkhead', 'runs')), artifacts);
    assert.ok(existsSync(artifacts), `${artifacts} exists`);
    const worker = bulk.json!.tests.find((entry) => entry.id === `${H}::test_fifty_megabytes_to_fd1`)!.worker;
    const log = join(artifacts, `worker-${worker}.log`);
    assert.ok(existsSync(log), `${log} exists (have ${readdirSync(artifacts).join(', ')})`);
    assert.ok(statSync(log).size >= FIFTY_MIB, `${log} has ${statSync(log).size} bytes`);
    const pastCapture = bulk.json!.tests.find((entry) => entry.id === `${H}::test_fake_protocol_past_capture`)!.worker;
    assert.ok(fileContains(join(artifacts, `worker-${pastCapture}.log`), 'fake INTERNALERROR from a test'));
  });
  await t.test("--junit equals plain pytest's --junitxml", async () => {
    const plain = await runPytest({ cwd: project.dir, maxOutputBytes: 1024 * 1024 });
    assert.equal(plain.code, 1, describeRun(plain));
    assert.deepEqual(junitOutcomes(bulk.junitXml!), junitOutcomes(plain.junitXml!));
  });
});

test('with -s (no capture): everything reaches the real fd 1/2 and still changes nothing', async () => {
  const bulk = await runCli({ cwd: project.dir, pytestArgs: ['-s'] });
  checkRun(bulk);
  const artifacts = bulk.json!.run.artifactsDir;
  const sizes = readdirSync(artifacts).map((name) => statSync(join(artifacts, name)).size);
  assert.ok(sizes.some((size) => size >= FIFTY_MIB), `log sizes ${sizes.join(', ')}`);
});

test('a test that leaves a process holding the worker stdout open: the run does not wait for it', async () => {
  const bulk = await runCli({ cwd: project.dir, pytestArgs: ['leaky'], timeoutMs: 40_000 });
  assert.equal(bulk.code, 0, describeRun(bulk));
  assert.equal(summaryLine(bulk.stdout), '2 passed');
  // The leaked `sleep 15` dies with its worker's process group; nothing waits 15 s for it.
  assert.ok(bulk.seconds < 10, `the run took ${bulk.seconds.toFixed(1)} s`);
  assert.deepEqual(bulk.leftovers, []);
});
