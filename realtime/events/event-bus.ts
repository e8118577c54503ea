/**
 * One published domain event: an outbox row the relay has given a position. Positions are
 * dense (1, 2, 3, ...) and assigned in the order rows become visible, so "everything after
 * position n" is a complete, ordered answer: the cursor a subscriber resumes from.
 */
export interface BusEvent {
  position: bigint;
  /** The outbox row's id: also the Standard Webhooks message id's stem. */
  outboxId: bigint;
  topic: string;
  aggregateId: string;
  country: string;
  payload: unknown;
  createdAt: Date;
}

/** A BusEvent as JSON carries it (NATS messages, NOTIFY payloads). */
export interface WireEvent {
  position: string;
  outboxId: string;
  topic: string;
  aggregateId: string;
  country: string;
  payload: unknown;
  createdAt: string;
}

export function toWire(event: BusEvent): WireEvent {
  return { ...event, position: event.position.toString(), outboxId: event.outboxId.toString(), createdAt: event.createdAt.toISOString() };
}

export function fromWire(wire: WireEvent): BusEvent {
  return { ...wire, position: BigInt(wire.position), outboxId: BigInt(wire.outboxId), createdAt: new Date(wire.createdAt) };
}

/**
 * How published events reach every instance. The outbox is the record (readAfter); the bus is
 * how instances hear about new entries without polling it. Two implementations:
 * PostgreSQL LISTEN/NOTIFY (default, also on the embedded PGlite) and NATS JetStream.
 */
export interface EventBus {
  readonly kind: "postgres" | "nats";
  /**
   * Set when the bus is the database's own NOTIFY channel: the relay's positioning statement
   * announces the events on it in the same transaction (delivered on commit), and `publish` is
   * left for announcing again what a relay positioned but never announced.
   */
  readonly notifyChannel?: string;
  /** Announces events the relay has just committed, in position order. */
  publish(events: readonly BusEvent[]): Promise<void>;
  /**
   * Calls `listener` for events published from now on, each position once and in order (gaps are
   * filled from the record, once per process: InOrderEmitter); the feed checks positions again.
   */
  subscribe(listener: (event: BusEvent) => void): Promise<() => Promise<void>>;
  /** Events after `position`, oldest first, at most `limit`: replay from the record. */
  readAfter(position: bigint, limit: number): Promise<BusEvent[]>;
  /** The newest published position, 0 when none. */
  head(): Promise<bigint>;
  close(): Promise<void>;
}

const CURSOR_PREFIX = "evt:";

/** The opaque `after` cursor clients hold. */
export function encodeCursor(position: bigint): string {
  return Buffer.from(`${CURSOR_PREFIX}${position}`, "utf8").toString("base64url");
}

/** The position a cursor stands for, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): bigint | undefined {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  if (!text.startsWith(CURSOR_PREFIX)) return undefined;
  const digits = text.slice(CURSOR_PREFIX.length);
  return /^\d{1,19}$/.test(digits) ? BigInt(digits) : undefined;
}
