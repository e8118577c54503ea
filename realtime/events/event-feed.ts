import type { Logger } from "../../platform/logger.ts";
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
  /** Followers that see every event. */
  private readonly unrouted = new Set<Follower>();
  /** Followers that see only the events of their route (and events that have none). */
  private readonly routed = new Map<string, Set<Follower>>();
  private unsubscribe: (() => Promise<void>) | undefined;

  private constructor(
    readonly bus: EventBus,
    head: bigint,
    private readonly logger: Logger,
    private readonly routeOf: (event: BusEvent) => string | undefined,
  ) {
    this.newest = head;
  }

  /**
   * `routeOf` names the route of an event (for alerts: the person it is about); a follower with
   * a route is offered only its route's events and the events without one, so an event costs
   * the followers it may concern, not every follower in the process.
   */
  static async start(bus: EventBus, logger: Logger, routeOf: (event: BusEvent) => string | undefined = () => undefined): Promise<EventFeed> {
    const feed = new EventFeed(bus, await bus.head(), logger, routeOf);
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
    if (options.route === undefined) this.unrouted.add(follower);
    else {
      let set = this.routed.get(options.route);
      if (!set) this.routed.set(options.route, (set = new Set()));
      set.add(follower);
    }
    return follower;
  }

  /** @internal */
  forget(follower: Follower, route: string | undefined): void {
    this.followers.delete(follower);
    if (route === undefined) this.unrouted.delete(follower);
    else {
      const set = this.routed.get(route);
      set?.delete(follower);
      if (set?.size === 0) this.routed.delete(route);
    }
  }

  async stop(): Promise<void> {
    for (const follower of this.followers) follower.stop();
    await this.unsubscribe?.();
  }

  /**
   * Events come in position order. One already passed on is ignored; a gap (one not heard of
   * yet) sends every live follower back to the record, which has it. So a live follower sees,
   * of every position, either the event or nothing because it is not on its route.
   */
  private receive(event: BusEvent): void {
    if (event.position <= this.newest) return;
    const passedOn = this.newest;
    this.newest = event.position;
    if (event.position !== passedOn + 1n) {
      for (const follower of this.followers) follower.fallBehind(passedOn);
      return;
    }
    for (const follower of this.unrouted) follower.offer(event);
    const route = this.routeOf(event);
    if (route !== undefined) {
      const set = this.routed.get(route);
      if (set) for (const follower of set) follower.offer(event);
    } else for (const set of this.routed.values()) for (const follower of set) follower.offer(event);
  }
}

export interface FollowOptions {
  /** The last position already handled: events after it are delivered. */
  after: bigint;
  /** Live events held while the handler is busy; beyond that the follower reads the record instead. */
  maxQueued: number;
  /** Only this route's live events (and those without a route) are offered; see EventFeed.start. */
  route?: string;
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
    // From the feed's own position (a new subscription without a cursor) there is nothing to read
    // from the record: every later event comes through the feed. A fleet reconnecting together
    // would otherwise make one read each.
    if (options.after >= feed.position) this.goLive();
    void this.run().catch((error: unknown) => {
      this.stop();
      options.onFailure(error);
    });
  }

  /** The last position handled. */
  get position(): bigint {
    return this.cursor;
  }

  /** @internal: the feed hands over a live event (the feed checks the positions are contiguous). */
  offer(event: BusEvent): void {
    if (!this.live || this.stopped || event.position <= this.enqueued) return;
    this.enqueued = event.position;
    if (this.options.accepts && !this.options.accepts(event)) {
      this.settleIdle(event.position);
      return;
    }
    if (this.queue.length >= this.options.maxQueued) return this.fallBehind();
    this.queue.push(event);
    this.wake?.();
  }

  /**
   * @internal: a gap in the feed, or a full queue: back to the record from the last position
   * handled; an idle follower has handled everything the feed passed on before the gap.
   */
  fallBehind(passedOn?: bigint): void {
    if (!this.live) return;
    if (passedOn !== undefined) this.settleIdle(passedOn);
    this.live = false;
    this.queue = [];
    this.logger.debug({ at: this.cursor.toString() }, "follower fell behind the live edge; reading the record");
    this.wake?.();
  }

  /**
   * Idle (waiting, nothing queued), a follower has handled, passed over or not been offered every
   * event the feed passed on up to `position`: a later fall back to the record starts there, not
   * at the last event it handled.
   */
  private settleIdle(position: bigint): void {
    if (this.wake && this.queue.length === 0 && position > this.cursor) this.cursor = position;
  }

  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.feed.forget(this, this.options.route);
    this.wake?.();
  }

  private goLive(): void {
    this.live = true;
    this.enqueued = this.cursor;
    this.queue = [];
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
        if (events.length < REPLAY_BATCH && this.cursor >= this.feed.position) this.goLive();
        else if (events.length === 0) await delay(IDLE_RETRY_MS);
        continue;
      }
      const event = this.queue.shift();
      if (!event) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.settleIdle(this.feed.position);
        });
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
