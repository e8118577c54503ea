/**
 * What a GraphQL answer waits for before it leaves the process: a write it must not go out
 * without (a consent receipt). The request goes on while the write runs, so the answer is shaped
 * and encoded in the meantime, and the HTTP server sends it only once every hold has settled
 * well; when one fails the answer is withheld and the caller gets a 500 with no data.
 */
export class AnswerHolds {
  private readonly pending: Promise<unknown>[] = [];

  hold(work: Promise<unknown>): void {
    // Settled is where a failure is acted on; a request that fails first never asks.
    work.catch(() => undefined);
    this.pending.push(work);
  }

  /** Resolves once every hold has settled; rejects with the first failure. */
  async settled(): Promise<void> {
    if (this.pending.length > 0) await Promise.all(this.pending);
  }
}
