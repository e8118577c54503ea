/**
 * Identical work in flight at the same time is done once: the first caller starts it, the
 * others wait for its answer. An entry lives only while its work is in flight and is removed
 * the moment it settles, so nothing is ever served from finished work (this is not a cache).
 * Which work counts as identical is the caller's key (subgraph fetches: subgraph-data-source.ts;
 * whole operations: scopes/scoped-gateway.ts; both only for the same token, key and checked
 * consent state).
 *
 * `copy` gives each waiter an answer of its own, made as the answer arrives and before the
 * first caller's code runs on, so an answer its callers change in place (an operation's result)
 * is never seen half-changed; the default hands out the same value (immutable answers).
 */
export class InflightFetches<T> {
  private readonly inflight = new Map<string, { resolve(value: T): void; reject(error: unknown): void }[]>();

  constructor(private readonly copy: (value: T) => T = (value) => value) {}

  /** `start()`'s answer, or a copy of that of an identical piece of work already in flight under `key`. */
  run(key: string, start: () => Promise<T>): Promise<T> {
    const waiters = this.inflight.get(key);
    if (waiters) return new Promise<T>((resolve, reject) => waiters.push({ resolve, reject }));
    const joined: { resolve(value: T): void; reject(error: unknown): void }[] = [];
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
        for (const waiter of joined) waiter.resolve(this.copy(value));
        return value;
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
