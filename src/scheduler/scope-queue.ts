/**
 * The central queue of tests not yet handed to a worker, grouped by scope (the module for pytest)
 * so that a worker can be given more of the module it is already in, and its module fixtures
 * are set up once instead of once per worker.
 */
export class ScopeQueue {
  /** scope -> indices in collection order. */
  private readonly byScope = new Map<string, number[]>();
  private readonly scopeOf: readonly string[];
  /** Tests the scheduler counts apart (long ones, with history), and how many of them are queued. */
  private readonly marked: readonly boolean[];
  private markedTotal = 0;
  private readonly markedByScope = new Map<string, number>();
  private total = 0;

  constructor(scopes: readonly string[], marked: readonly boolean[] = []) {
    this.scopeOf = scopes;
    this.marked = marked;
  }

  get size(): number {
    return this.total;
  }

  /** How many marked tests are queued. */
  get markedCount(): number {
    return this.markedTotal;
  }

  /** Scopes with marked tests queued, in queue order. */
  markedScopes(): string[] {
    if (this.markedTotal === 0) return [];
    return [...this.byScope.keys()].filter((scope) => (this.markedByScope.get(scope) ?? 0) > 0);
  }

  /** Appends in collection order. */
  pushBack(indices: readonly number[]): void {
    for (const index of indices) {
      this.bucket(index).push(index);
      this.count(index, 1);
    }
  }

  /** Puts tests back at the front of their scope (they were handed out once already). */
  pushFront(indices: readonly number[]): void {
    for (const index of [...indices].reverse()) {
      this.bucket(index).unshift(index);
      this.count(index, 1);
    }
  }

  remaining(scope: string): number {
    return this.byScope.get(scope)?.length ?? 0;
  }

  /** The first scope (in collection order) with tests left, preferring ones no worker is in. */
  pickScope(busy: ReadonlySet<string>): string | null {
    let fallback: string | null = null;
    for (const [scope, indices] of this.byScope) {
      if (indices.length === 0) continue;
      if (!busy.has(scope)) return scope;
      fallback ??= scope;
    }
    return fallback;
  }

  /** Scopes with tests left, in collection order. */
  scopes(): string[] {
    return [...this.byScope.keys()];
  }

  peek(scope: string): readonly number[] {
    return this.byScope.get(scope) ?? [];
  }

  /**
   * Takes up to `count` tests of a scope that `accept` admits, in order, skipping the others
   * (they stay queued, in order). `accept` sees each candidate once and may keep state.
   */
  takeWhere(scope: string, count: number, accept: (index: number) => boolean): number[] {
    const indices = this.byScope.get(scope);
    if (!indices || count <= 0) return [];
    const taken: number[] = [];
    const kept: number[] = [];
    for (const index of indices) {
      if (taken.length < count && accept(index)) taken.push(index);
      else kept.push(index);
    }
    for (const index of taken) this.count(index, -1);
    if (kept.length === 0) this.byScope.delete(scope);
    else this.byScope.set(scope, kept);
    return taken;
  }

  take(scope: string, count: number): number[] {
    const indices = this.byScope.get(scope);
    if (!indices || count <= 0) return [];
    const taken = indices.splice(0, count);
    for (const index of taken) this.count(index, -1);
    if (indices.length === 0) this.byScope.delete(scope);
    return taken;
  }

  drain(): number[] {
    const all = [...this.byScope.values()].flat();
    this.byScope.clear();
    this.total = 0;
    this.markedTotal = 0;
    this.markedByScope.clear();
    return all;
  }

  private count(index: number, delta: 1 | -1): void {
    this.total += delta;
    if (!this.marked[index]) return;
    this.markedTotal += delta;
    const scope = this.scopeOf[index] ?? '';
    this.markedByScope.set(scope, (this.markedByScope.get(scope) ?? 0) + delta);
  }

  private bucket(index: number): number[] {
    const scope = this.scopeOf[index] ?? '';
    let indices = this.byScope.get(scope);
    if (!indices) {
      indices = [];
      this.byScope.set(scope, indices);
    }
    return indices;
  }
}
