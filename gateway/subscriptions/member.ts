import type { ExecutionResult } from "graphql";
import { CLOSE_CODES } from "./close-codes.ts";
import type { SubscriberConnection } from "./subscriber-connection.ts";

/** What a member tells the stream it belongs to: that it has finished. */
export interface Membership {
  leave(member: Member): void;
}

/** One subscriber: a bounded queue of results, read by graphql-ws as an async iterator. */
export class Member implements AsyncIterableIterator<ExecutionResult> {
  private readonly queue: ExecutionResult[] = [];
  private waiting: ((result: IteratorResult<ExecutionResult>) => void) | undefined;
  private done = false;

  constructor(
    private readonly stream: Membership,
    private readonly connection: SubscriberConnection,
    private readonly maxQueued: number,
    private readonly maxBufferedBytes: number,
  ) {}

  push(result: ExecutionResult): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: result, done: false });
    } else if (this.queue.length >= this.maxQueued) {
      this.closeConnection(CLOSE_CODES.TOO_SLOW, "Too far behind: reconnect and resume with `after`");
      return;
    } else this.queue.push(result);
    if (this.connection.bufferedAmount() > this.maxBufferedBytes) this.closeConnection(CLOSE_CODES.TOO_SLOW, "Too far behind: reconnect and resume with `after`");
  }

  closeConnection(code: number, reason: string): void {
    this.finish();
    this.connection.close(code, reason);
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    const value = this.queue.shift();
    if (value) return Promise.resolve({ value, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    this.stream.leave(this);
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
  }
}
