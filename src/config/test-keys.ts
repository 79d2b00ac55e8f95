/**
 * The keys that set a test's scheduling: the same in `[defaults]`, in each `[[override]]` and in
 * `@pytest.mark.bulkhead(...)`, so one schema checks all three and they say the same things.
 */
import type { z } from 'zod';
import { field, namedCounts, type DeclaredResources } from './schema-parts.js';
import type { TestKeySettings } from './types.js';
import { boolean, nonEmptyString, seconds, size, wholeNumber } from './values.js';

export const TEST_KEYS = ['timeout', 'memory', 'cpus', 'resources', 'group', 'exclusive', 'retries'] as const;

/**
 * @param declared the resource names the config declares; a test asking for any other is an
 *   error (it could never be scheduled).
 */
export function testKeysShape(declared: DeclaredResources) {
  return {
    timeout: field(seconds),
    memory: field(size),
    cpus: field(wholeNumber('a CPU count', 1)),
    resources: namedCounts('a token count', 'e.g. { gpu = 1 }', declared).optional(),
    group: field(nonEmptyString('a group name', '"database"')),
    exclusive: field(boolean),
    retries: field(wholeNumber('a retry count', 0)),
  } satisfies Record<(typeof TEST_KEYS)[number], z.ZodType>;
}

export type TestKeys = z.output<z.ZodObject<ReturnType<typeof testKeysShape>>>;

/** The validated keys as TestSettings fields; a key that was not given stays absent. */
export function toTestSettings(keys: TestKeys): TestKeySettings {
  const settings: TestKeySettings = {};
  if (keys.timeout !== undefined) settings.timeoutSeconds = keys.timeout;
  if (keys.memory !== undefined) settings.memoryBytes = keys.memory;
  if (keys.cpus !== undefined) settings.cpus = keys.cpus;
  if (keys.resources !== undefined) settings.resources = keys.resources;
  if (keys.group !== undefined) settings.group = keys.group;
  if (keys.exclusive !== undefined) settings.exclusive = keys.exclusive;
  if (keys.retries !== undefined) settings.retries = keys.retries;
  return settings;
}
