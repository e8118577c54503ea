/**
 * Identical work in flight at the same time is done once: the first caller starts it, the
 * others wait for its answer. An entry lives only while its work is in flight and is removed
 * the moment it settles, so nothing is ever served from finished work (this is not a cache).
 * Which work counts as identical is the caller's key (subgraph fetches: subgraph-data-source.ts;
 * whole operations: scopes/scoped-gateway.ts; both only for the same token, key and checked
 * consent state).
 *
 * Everyone gets the same value: a caller that changes its answer in place copies it first, and
 * `runShared` tells it whether anyone else got it.
 */
export class InflightFetches<T> {
  private readonly inflight = new Map<string, { resolve(value: Shared<T>): void; reject(error: unknown): void }[]>();

  /** `start()`'s answer, or that of an identical piece of work already in flight under `key`. */
  async run(key: string, start: () => Promise<T>): Promise<T> {
    return (await this.runShared(key, start)).value;
  }

  /** As `run`, and whether the answer went to more than one caller (false only for a caller that started it alone). */
  runShared(key: string, start: () => Promise<T>): Promise<Shared<T>> {
    const waiters = this.inflight.get(key);
    if (waiters) return new Promise<Shared<T>>((resolve, reject) => waiters.push({ resolve, reject }));
    const joined: { resolve(value: Shared<T>): void; reject(error: unknown): void }[] = [];
    this.inflight.set(key, joined);
    const settle = () => {
      if (this.inflight.get(key) === joined) this.inflight.delete(key);
    };
    let started: Promise<T>;
    try {
      started = start();
    } catch (error) {
      settle();
      return Promise.reject(error);
    }
    return started.then(
      (value) => {
        settle();
        for (const waiter of joined) waiter.resolve({ value, shared: true });
        return { value, shared: joined.length > 0 };
      },
      (error: unknown) => {
        settle();
        for (const waiter of joined) waiter.reject(error);
        throw error;
      },
    );
  }

  /** Whether work is in flight under `key` now: a `run` with it would wait rather than start. */
  has(key: string): boolean {
    return this.inflight.has(key);
  }

  /** Pieces of work in flight now (tests and diagnostics). */
  get size(): number {
    return this.inflight.size;
  }
}

export interface Shared<T> {
  value: T;
  shared: boolean;
}
