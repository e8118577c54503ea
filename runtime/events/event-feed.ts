import type { Logger } from "../logger.ts";
import type { BusEvent, EventBus } from "./event-bus.ts";

const REPLAY_BATCH = 200;
const IDLE_RETRY_MS = 50;

/**
 * One live subscription to the bus per process, shared by every consumer in it. It remembers
 * the newest position it has passed on, which is what lets a follower decide, without a race,
 * that it has caught up with the record and can switch to live events.
 */
export class EventFeed {
  private newest: bigint;
  private readonly followers = new Set<Follower>();
  private unsubscribe: (() => Promise<void>) | undefined;

  private constructor(
    readonly bus: EventBus,
    head: bigint,
    private readonly logger: Logger,
  ) {
    this.newest = head;
  }

  static async start(bus: EventBus, logger: Logger): Promise<EventFeed> {
    const feed = new EventFeed(bus, await bus.head(), logger);
    feed.unsubscribe = await bus.subscribe((event) => feed.receive(event));
    return feed;
  }

  /** The newest position this process has heard of. */
  get position(): bigint {
    return this.newest;
  }

  /** Consumes events after `after` (replayed from the record first), in order, none twice. */
  follow(options: FollowOptions): Follower {
    const follower = new Follower(this, options, this.logger);
    this.followers.add(follower);
    return follower;
  }

  /** @internal */
  forget(follower: Follower): void {
    this.followers.delete(follower);
  }

  async stop(): Promise<void> {
    for (const follower of this.followers) follower.stop();
    await this.unsubscribe?.();
  }

  private receive(event: BusEvent): void {
    if (event.position > this.newest) this.newest = event.position;
    for (const follower of this.followers) follower.offer(event);
  }
}

export interface FollowOptions {
  /** The last position already handled: events after it are delivered. */
  after: bigint;
  /** Live events held while the handler is busy; beyond that the follower reads the record instead. */
  maxQueued: number;
  /** Called for one event at a time, in position order; the next waits for it. */
  handle(event: BusEvent): Promise<void>;
  /**
   * Cheap and synchronous: false when the event is certainly none of this follower's business,
   * so it is passed over without a turn of the handler (thousands of followers share one feed).
   * True hands it to `handle`, which makes the real decision. Default: every event.
   */
  accepts?(event: BusEvent): boolean;
  /** The handler or a read failed: the follower has stopped. */
  onFailure(error: unknown): void;
}

/**
 * A cursor over the event stream: replays from the record until it reaches the live edge, then
 * takes live events from a bounded queue. A gap (an event it has not seen yet, or a queue that
 * overflowed because its handler is slow) sends it back to the record, so memory stays bounded
 * and nothing is skipped.
 */
export class Follower {
  private cursor: bigint;
  private enqueued = 0n;
  private queue: BusEvent[] = [];
  private live = false;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly feed: EventFeed,
    private readonly options: FollowOptions,
    private readonly logger: Logger,
  ) {
    this.cursor = options.after;
    void this.run().catch((error: unknown) => {
      this.stop();
      options.onFailure(error);
    });
  }

  /** The last position handled. */
  get position(): bigint {
    return this.cursor;
  }

  /** @internal: the feed hands over a live event. */
  offer(event: BusEvent): void {
    if (!this.live || this.stopped || event.position <= this.enqueued) return;
    if (event.position !== this.enqueued + 1n) return this.fallBehind();
    this.enqueued = event.position;
    if (this.options.accepts && !this.options.accepts(event)) {
      // Idle (waiting, nothing queued): everything up to here is handled or passed over.
      if (this.wake && this.queue.length === 0) this.cursor = event.position;
      return;
    }
    if (this.queue.length >= this.options.maxQueued) return this.fallBehind();
    this.queue.push(event);
    this.wake?.();
  }

  /** A gap, or a full queue: back to the record from the last position handled. */
  private fallBehind(): void {
    this.live = false;
    this.queue = [];
    this.logger.debug({ at: this.cursor.toString() }, "follower fell behind the live edge; reading the record");
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.feed.forget(this);
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.live) {
        const events = await this.feed.bus.readAfter(this.cursor, REPLAY_BATCH);
        for (const event of events) {
          if (this.stopped) return;
          if (!this.options.accepts || this.options.accepts(event)) await this.options.handle(event);
          this.cursor = event.position;
        }
        // Synchronous with the feed: nothing newer can have been passed on since this check.
        if (events.length < REPLAY_BATCH && this.cursor >= this.feed.position) {
          this.live = true;
          this.enqueued = this.cursor;
          this.queue = [];
        } else if (events.length === 0) await delay(IDLE_RETRY_MS);
        continue;
      }
      const event = this.queue.shift();
      if (!event) {
        // Everything offered so far was handled or passed over: a later fall back to the
        // record starts here, not at the last event this follower cared about.
        if (this.enqueued > this.cursor) this.cursor = this.enqueued;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      await this.options.handle(event);
      this.cursor = event.position;
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
