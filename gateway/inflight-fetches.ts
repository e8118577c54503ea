/**
 * Identical subgraph fetches in flight at the same time share one: the first starts it, the
 * others wait for its answer. An entry lives only while its fetch is in flight and is removed
 * when it settles, so nothing is ever served from a finished fetch (this is not a cache).
 * Which fetches count as identical is the caller's key (subgraph-data-source.ts: only queries,
 * and only for the same token, key and checked consent state).
 */
export class InflightFetches<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  /** `start()`'s answer, or that of an identical fetch already in flight under `key`. */
  run(key: string, start: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key);
    if (running) return running;
    const fetch = start().finally(() => {
      if (this.inflight.get(key) === fetch) this.inflight.delete(key);
    });
    this.inflight.set(key, fetch);
    return fetch;
  }

  /** Fetches in flight now (tests and diagnostics). */
  get size(): number {
    return this.inflight.size;
  }
}
