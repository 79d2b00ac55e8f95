/**
 * The worker's journal (supervisor/journal.ts) under a real WorkerProcess: messages written to fd 4
 * arrive when the worker rings (a bare line on fd 3), on a read the tick asks for, and at the exit
 * whatever ended it; none arrive twice, and no file is left behind.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Journal } from '../../src/supervisor/journal.js';
import { PYTHON, exitWithin, reapAll, spawnWorker } from './harness.js';

after(() => reapAll());

const WRITE = 'import os, sys, time\ndef journal(text):\n    os.write(int(os.environ["BULKHEAD_JOURNAL_FD"]), text.encode())\ndef ring():\n    os.write(3, b"\\n")\n';

test('a journaled message arrives when the worker rings, and the doorbell itself is no message', async () => {
  const script = `${WRITE}journal('{"n": 1}\\n{"n": 2}\\n')\nring()\nos.read(3, 1)\n`;
  const w = spawnWorker(PYTHON, ['-c', script], { journal: true });
  assert.deepEqual([JSON.parse(await w.line(1)), JSON.parse(await w.line(2))], [{ n: 1 }, { n: 2 }]);
  assert.equal(w.lines.length, 2);
  w.proc.send('\n');
  await exitWithin(w, 10_000);
  assert.equal(w.lines.length, 2, 'nothing read twice at the exit');
});

test('without a ring, a read (the tick) takes in what was journaled; a partial line waits for its end', async () => {
  const script = `${WRITE}journal('{"n": 1}\\n{"n": ')\ntime.sleep(0.3)\njournal('2}\\n')\nos.read(3, 1)\n`;
  const w = spawnWorker(PYTHON, ['-c', script], { journal: true });
  const deadline = performance.now() + 10_000;
  while (w.lines.length < 1 && performance.now() < deadline) {
    w.proc.readJournal();
    await sleep(20);
  }
  assert.deepEqual(w.lines.map((line) => JSON.parse(line)), [{ n: 1 }]);
  while (w.lines.length < 2 && performance.now() < deadline) {
    w.proc.readJournal();
    await sleep(20);
  }
  assert.deepEqual(w.lines.map((line) => JSON.parse(line)), [{ n: 1 }, { n: 2 }]);
  w.proc.send('\n');
  await exitWithin(w, 10_000);
});

test('a worker killed right after journaling, without a ring: its messages come before its exit', async () => {
  const script = `${WRITE}journal('{"type": "started", "id": "t::dies"}\\n')\nimport signal\nos.kill(os.getpid(), signal.SIGKILL)\n`;
  const w = spawnWorker(PYTHON, ['-c', script], { journal: true });
  let linesAtExit = -1;
  w.proc.onceExited(() => (linesAtExit = w.lines.length));
  const exit = await exitWithin(w, 10_000);
  assert.equal(exit.signal, 'SIGKILL');
  assert.equal(linesAtExit, 1, 'the journaled line was taken in before the exit was reported');
  assert.deepEqual(JSON.parse(w.lines[0]!), { type: 'started', id: 't::dies' });
});

test('the journal file is unlinked at once: nothing is left in its directory, even while open', () => {
  const before = readdirSync('/tmp').filter((name) => name.startsWith('bulkhead-journal-'));
  const journal = new Journal('/tmp');
  try {
    assert.deepEqual(readdirSync('/tmp').filter((name) => name.startsWith('bulkhead-journal-')), before);
    const chunks: string[] = [];
    journal.read((chunk) => chunks.push(chunk.toString()));
    assert.deepEqual(chunks, []);
  } finally {
    journal.close();
  }
  journal.read(() => assert.fail('a closed journal reads nothing'));
});
