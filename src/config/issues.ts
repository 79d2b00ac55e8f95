/**
 * zod issues turned into our messages: one line per problem, naming the key path as the user
 * writes it (`tool.bulkhead.override[1].memory`), the file and line, and what is allowed.
 */
import type { z } from 'zod';
import { findKeyLine, type KeyPath } from './source-lines.js';

export interface Problem {
  path: KeyPath;
  message: string;
}

/** One problem per unknown key (zod gives one issue for all of a table's unknown keys). */
export function problemsOf(issues: readonly z.core.$ZodIssue[]): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part));
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: [...path, key], message: `unknown key '${key}' (${issue.message})` });
    } else {
      problems.push({ path, message: issue.message });
    }
  }
  return problems;
}

/** `tool.bulkhead.override[1].memory`; a key that is not a bare TOML key is quoted. */
export function formatKeyPath(path: KeyPath): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += `${text === '' ? '' : '.'}${/^[A-Za-z0-9_-]+$/.test(part) ? part : JSON.stringify(part)}`;
  }
  return text;
}

export interface ConfigSource {
  /** The file as named in messages. */
  file: string;
  text: string;
  /** Where bulkhead's table sits in the file: ['tool', 'bulkhead'] in pyproject.toml, [] in bulkhead.toml. */
  prefix: string[];
}

/** `pyproject.toml:14: tool.bulkhead.override[1].memory: "12 gigs" is not a size (...)`, by line. */
export function formatConfigProblems(problems: readonly Problem[], source: ConfigSource): string[] {
  const located = problems.map((problem) => {
    const path = [...source.prefix, ...problem.path];
    const line = findKeyLine(source.text, path);
    const where = line === null ? source.file : `${source.file}:${line}`;
    const key = formatKeyPath(path);
    return { line: line ?? 0, text: `${where}: ${key === '' ? '' : `${key}: `}${problem.message}` };
  });
  return located.sort((a, b) => a.line - b.line).map((entry) => entry.text);
}
