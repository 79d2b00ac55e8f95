/**
 * Terminal writing the way pytest's TerminalWriter does it: the same separator lines, the same
 * escape codes, so bulkhead's output reads like pytest's.
 */
const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, bold: 1 } as const;
export type Markup = Partial<Record<keyof typeof CODES, boolean>>;

export class TermWriter {
  constructor(
    private readonly out: (text: string) => void,
    readonly color: boolean,
    readonly width: number,
  ) {}

  markup(text: string, markup: Markup = {}): string {
    if (!this.color) return text;
    const codes = (Object.keys(markup) as Array<keyof typeof CODES>).filter((name) => markup[name]).map((name) => CODES[name]);
    if (codes.length === 0) return text;
    return `${codes.map((code) => `\x1b[${code}m`).join('')}${text}\x1b[0m`;
  }

  write(text: string, markup: Markup = {}): void {
    this.out(this.markup(text, markup));
  }

  line(text = '', markup: Markup = {}): void {
    this.out(`${this.markup(text, markup)}\n`);
  }

  /** A separator line with an optional title, as `TerminalWriter.sep`. */
  sep(char: string, title?: string, markup: Markup = {}, fullwidth = this.width): void {
    let line: string;
    if (title !== undefined) {
      const count = Math.max(Math.floor((fullwidth - visibleLength(title) - 2) / (2 * char.length)), 1);
      const fill = char.repeat(count);
      line = `${fill} ${title} ${fill}`;
    } else {
      line = char.repeat(Math.floor(fullwidth / char.length));
    }
    if (visibleLength(line) + char.trimEnd().length <= fullwidth) line += char.trimEnd();
    this.line(line, markup);
  }
}

export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}

export function pluralize(count: number, noun: string): string {
  if (noun !== 'error' && noun !== 'warnings' && noun !== 'test') return `${count} ${noun}`;
  const singular = noun === 'warnings' ? 'warning' : noun;
  return `${count} ${count === 1 ? singular : `${singular}s`}`;
}

export function formatSessionDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(2)}s`;
  const whole = Math.floor(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return `${seconds.toFixed(2)}s (${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')})`;
}
