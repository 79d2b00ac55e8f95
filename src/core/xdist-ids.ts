/**
 * The pytest-xdist worker ids (`gw0`, `gw1`, ...) of a run's live workers. Suites built for xdist
 * key per-worker resources on them (pytest-django's test database `test_app_gw0`, ports, temp
 * folders, Redis databases), so two live workers must never share one, and a worker that replaces
 * a dead one takes the id it freed: its database or port is reused, not leaked.
 *
 * Pure bookkeeping: the pool claims an id when it starts a process and releases it when that
 * process has exited (its leftover children killed), never earlier.
 */
export class XdistIds {
  private readonly held = new Set<number>();

  /**
   * The id for a process about to start: `preferred` when no live worker holds it (a pool slot's
   * own index, a spare's index past the pool), else the lowest free one. A spare that took over
   * a pool slot keeps the id it started with (its environment cannot change), so the slot's old
   * id is free and the next process to start, usually the new spare, takes it.
   */
  claim(preferred: number): number {
    let index = preferred >= 0 && !this.held.has(preferred) ? preferred : 0;
    while (this.held.has(index)) index += 1;
    this.held.add(index);
    return index;
  }

  release(index: number): void {
    this.held.delete(index);
  }
}

/** xdist's own spelling of a worker id. */
export function xdistWorkerId(index: number): string {
  return `gw${index}`;
}
