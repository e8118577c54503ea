/**
 * Coalesces the same statement asked for by concurrent requests: up to `maxInFlight` statements
 * run at once, and while all of them are running, items queue and the next statement takes every
 * item queued by then (up to `maxItems`). An idle batcher runs on the next turn of the event loop,
 * so a lone request waits for nothing but its own statement.
 *
 * More than one statement in flight: with one, every request waited for the statement ahead of it
 * to come back before its own could start, so one slow round trip (a re-check round of a
 * subscription fleet, a moment of contention in the database) held up everything behind it.
 *
 * An item is only ever added to a statement that has not started yet, so every request's
 * statement starts after the request did: a consent revoked before a request began is seen
 * by that request, exactly as with a statement of its own.
 */
export class StatementBatcher<Item, Result> {
  private queue: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    /** Runs one statement for `items`; answers one result per item, in order. */
    private readonly run: (items: readonly Item[]) => Promise<readonly Result[]>,
    private readonly maxItems = 1000,
    private readonly maxInFlight = 3,
  ) {}

  add(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight >= this.maxInFlight || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.inFlight++;
    const batch = this.queue.splice(0, this.maxItems);
    // Items beyond maxItems need not wait for this statement when another may start.
    if (this.queue.length > 0) this.schedule();
    try {
      const results = await this.run(batch.map((entry) => entry.item));
      batch.forEach((entry, index) => entry.resolve(results[index] as Result));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.inFlight--;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
