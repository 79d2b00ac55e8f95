import { readFileSync, readdirSync } from 'node:fs';

const PAGE = 4096;

/** Direct children of a process, from /proc/<pid>/task/<tid>/children. */
function children(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const tid of tasks) {
    try {
      for (const part of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) {
        if (part.trim()) found.push(Number(part));
      }
    } catch {
      // the thread ended
    }
  }
  return found;
}

function rss(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
  } catch {
    return 0;
  }
}

/** Resident bytes of a process and all its descendants. */
export function treeRssBytes(root: number): number {
  let total = 0;
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    total += rss(pid);
    stack.push(...children(pid));
  }
  return total;
}
