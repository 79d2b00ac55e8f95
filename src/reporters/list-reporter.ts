/**
 * `bulkhead list`: the run-wide settings, then each collected test with its effective settings,
 * each with where it came from, so an override can be checked before a long run. Settings left
 * at their defaults are not shown.
 */
import type { PlannedTest, RunEvent } from '../model/event.js';
import type { SettingKey, SettingOrigin } from '../model/settings.js';
import { formatBytes } from '../util/bytes.js';
import type { Reporter } from './reporter.js';

export class ListReporter implements Reporter {
  readonly name = 'list';
  private listed = false;

  /**
   * @param runSettings the run-wide options not at their defaults, one line each with its origin
   *   (`resources gpu=1 (bulkhead.toml)`), shown above the tests.
   */
  constructor(
    private readonly write: (text: string) => void,
    private readonly runSettings: readonly string[] = [],
  ) {}

  onEvent(event: RunEvent): void {
    if (event.type !== 'test_plan') return;
    this.listed = true;
    if (this.runSettings.length > 0) {
      this.write(`run settings (other than the defaults):\n${this.runSettings.map((line) => `    ${line}\n`).join('')}\n`);
    }
    let customised = 0;
    for (const test of event.tests) {
      const parts = describeSettings(test);
      if (parts.length > 1 || test.settings.memoryBytes !== null) customised += 1;
      this.write(`${test.id}\n${parts.map((part) => `    ${part}\n`).join('')}`);
    }
    this.write(`\n${event.tests.length} tests; ${customised} with settings other than the defaults\n`);
  }

  async close(): Promise<void> {
    if (!this.listed) this.write('no tests were listed\n');
  }
}

export function describeSettings(test: PlannedTest): string[] {
  const { settings, origins } = test;
  const from = (key: SettingKey): string => (origins ? ` (${describeOrigin(origins[key])})` : '');
  const parts: string[] = [];
  if (settings.timeoutSeconds !== null) parts.push(`timeout ${settings.timeoutSeconds}s${from('timeoutSeconds')}`);
  if (settings.cpus !== 1) parts.push(`cpus ${settings.cpus}${from('cpus')}`);
  const resources = Object.entries(settings.resources);
  if (resources.length > 0) parts.push(`resources ${resources.map(([name, n]) => `${name}=${n}`).join(', ')}${from('resources')}`);
  if (settings.group !== null) parts.push(`group ${settings.group}${from('group')}`);
  if (settings.exclusive) parts.push(`exclusive${from('exclusive')}`);
  if (settings.serial) parts.push(`serial${from('serial')}`);
  if (settings.retries !== null) parts.push(`retries ${settings.retries}${from('retries')}`);
  if (settings.memoryBytes !== null) parts.push(`memory ${formatBytes(settings.memoryBytes)}${from('memoryBytes')}`);
  else if (test.memoryKnown) parts.push(`memory ${formatBytes(test.memoryBytes)} (measured peak, history)`);
  else parts.push(`memory unknown: assumed ${formatBytes(test.memoryBytes)} until measured`);
  return parts;
}

function describeOrigin(origin: SettingOrigin): string {
  switch (origin.kind) {
    case 'cli':
      return origin.flag;
    case 'override':
      return `override #${origin.index + 1} in ${origin.file}`;
    case 'marker':
      return `@pytest.mark.${origin.marker}`;
    case 'config':
      return origin.file;
    case 'default':
      return 'default';
  }
}
