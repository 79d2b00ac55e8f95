/**
 * The worker protocol's contract, supervisor side: the sample lines in
 * test/fixtures/protocol-samples.json, which python/tests/test_protocol_contract.py checks against
 * python/bulkhead_pytest/protocol.py. Every message a worker may send and every command it
 * accepts is there at least once; the zod schemas (protocol.ts) must read each as the sample says
 * (defaults filled, unknown fields dropped), the adapter must decode each message into the
 * neutral message the sample gives, and both sides must reject the invalid lines at the same place.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { decodeWorkerLine, encodeCommand } from '../../../src/adapters/pytest/decode.js';
import { anyWorkerMessage, PROTOCOL_VERSION, workerCommand } from '../../../src/adapters/pytest/protocol.js';
import { packageRoot } from '../../../src/util/package-root.js';

interface Samples {
  protocol: number;
  messages: Array<{ name: string; message: Record<string, unknown>; normalized?: unknown; decoded: unknown }>;
  commands: Array<{ name: string; command: Record<string, unknown>; normalized?: unknown }>;
  invalidMessages: Array<{ name: string; line: string; path: string }>;
  invalidCommands: Array<{ name: string; line: string; path: string }>;
}

const samples = JSON.parse(readFileSync(join(packageRoot(), 'test', 'fixtures', 'protocol-samples.json'), 'utf8')) as Samples;

function typesOf(schema: { options: ReadonlyArray<{ shape: { type: { value: string } } }> }): string[] {
  return schema.options.map((option) => option.shape.type.value).sort();
}

/** Where the first problem of a line is, as the samples write it ('' for the whole line); null when it is valid. */
function problemAt(schema: z.ZodType, line: string): string | null {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return '';
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? null : (parsed.error.issues[0]?.path.join('.') ?? '');
}

test('the samples are of this protocol version', () => {
  assert.equal(samples.protocol, PROTOCOL_VERSION);
});

test('every message type and every command type has a sample', () => {
  assert.deepEqual([...new Set(samples.messages.map((sample) => String(sample.message.type)))].sort(), typesOf(anyWorkerMessage));
  assert.deepEqual([...new Set(samples.commands.map((sample) => String(sample.command.type)))].sort(), typesOf(workerCommand));
});

test('every sample message reads as the sample says, and decodes into its neutral message', () => {
  for (const sample of samples.messages) {
    const parsed = anyWorkerMessage.safeParse(sample.message);
    assert.ok(parsed.success, `${sample.name}: ${parsed.success ? '' : parsed.error.message}`);
    assert.deepEqual(parsed.data, sample.normalized ?? sample.message, sample.name);
    assert.deepEqual(decodeWorkerLine(JSON.stringify(sample.message)), { ok: true, message: sample.decoded }, sample.name);
  }
});

test('every sample command reads as the sample says, and is sent as one line of the same JSON', () => {
  for (const sample of samples.commands) {
    const parsed = workerCommand.safeParse(sample.command);
    assert.ok(parsed.success, `${sample.name}: ${parsed.success ? '' : parsed.error.message}`);
    assert.deepEqual(parsed.data, sample.normalized ?? sample.command, sample.name);
    const line = encodeCommand(parsed.data);
    assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), sample.name);
    assert.deepEqual(JSON.parse(line), parsed.data, sample.name);
  }
});

test('invalid messages are rejected where the samples say, and never decode', () => {
  for (const sample of samples.invalidMessages) {
    assert.equal(problemAt(anyWorkerMessage, sample.line), sample.path, sample.name);
    const decoded = decodeWorkerLine(sample.line);
    assert.equal(decoded.ok, false, sample.name);
  }
});

test('invalid commands are rejected where the samples say', () => {
  for (const sample of samples.invalidCommands) assert.equal(problemAt(workerCommand, sample.line), sample.path, sample.name);
});

test('a hello of another protocol version is a violation, whatever its shape', () => {
  const hello = samples.messages.find((sample) => sample.message.type === 'hello')!.message;
  const decoded = decodeWorkerLine(JSON.stringify({ ...hello, protocol: PROTOCOL_VERSION + 1 }));
  assert.deepEqual(decoded, { ok: false, error: `protocol version ${PROTOCOL_VERSION + 1}, expected ${PROTOCOL_VERSION}` });
});
