/** "1 test", "2 tests": messages that count what they lost. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
