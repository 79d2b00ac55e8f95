/**
 * Reads and parses one TOML file. A syntax error names the file, line and column smol-toml found.
 */
import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';

export type TomlRead = { ok: true; text: string; data: Record<string, unknown> } | { ok: false; error: string };

/** @param display the file as named in messages (relative to the project when inside it). */
export function readToml(path: string, display: string): TomlRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(error);
    return { ok: false, error: `${display}: cannot read the config file: ${reason}` };
  }
  try {
    return { ok: true, text, data: parse(text) };
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    // smol-toml's message is "Invalid TOML document: <reason>" and then a code block: keep the reason.
    const reason = (error.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
    return { ok: false, error: `${display}:${error.line}:${error.column}: invalid TOML: ${reason}` };
  }
}
