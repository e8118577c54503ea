import { connect, DeliverPolicy, headers, JSONCodec, type JetStreamClient, type NatsConnection } from "nats";
import type { PrismaClient } from "../../platform/database/database.ts";
import type { Logger } from "../../platform/logger.ts";
import { fromWire, toWire, type BusEvent, type EventBus, type WireEvent } from "./event-bus.ts";
import { InOrderEmitter } from "./in-order-emitter.ts";
import { OutboxStore } from "./outbox-store.ts";

export const STREAM = "KAMINA_EVENTS";
const SUBJECT_PREFIX = "kamina.events.";

const codec = JSONCodec<WireEvent>();

/**
 * NATS JetStream, for deployments that outgrow one database's LISTEN connections: the relay
 * publishes each event (the whole event, so instances need no read to fan it out) with the
 * outbox row as JetStream's message id, so a relay that publishes twice after a crash is
 * deduplicated by the stream. The outbox stays the record: replay reads it by position.
 */
export class NatsEventBus implements EventBus {
  readonly kind = "nats";
  private readonly store: OutboxStore;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly jetstream: JetStreamClient,
    prisma: PrismaClient,
    private readonly logger: Logger,
  ) {
    this.store = new OutboxStore(prisma);
  }

  static async connect(url: string, prisma: PrismaClient, logger: Logger): Promise<NatsEventBus> {
    const connection = await connect({ servers: url, name: "kamina-graph" });
    const manager = await connection.jetstreamManager();
    try {
      await manager.streams.info(STREAM);
    } catch {
      // Events are replayed from the outbox, so the stream only has to cover live delivery.
      await manager.streams.add({ name: STREAM, subjects: [`${SUBJECT_PREFIX}>`], max_age: 24 * 3600 * 1e9, duplicate_window: 10 * 60 * 1e9 });
    }
    return new NatsEventBus(connection, connection.jetstream(), prisma, logger);
  }

  async publish(events: readonly BusEvent[]): Promise<void> {
    for (const event of events) {
      const header = headers();
      header.set("Kamina-Position", event.position.toString());
      await this.jetstream.publish(`${SUBJECT_PREFIX}${event.topic}`, codec.encode(toWire(event)), { msgID: messageId(event), headers: header });
    }
  }

  async subscribe(listener: (event: BusEvent) => void): Promise<() => Promise<void>> {
    const emitter = new InOrderEmitter(await this.store.head(), this.store, listener, this.logger);
    // One filter subject: the NATS 2.9 servers here predate multi-subject filters.
    const consumer = await this.jetstream.consumers.get(STREAM, { filterSubjects: `${SUBJECT_PREFIX}>`, deliver_policy: DeliverPolicy.New });
    const messages = await consumer.consume();
    const loop = (async () => {
      for await (const message of messages) {
        let event: BusEvent;
        try {
          event = fromWire(codec.decode(message.data));
        } catch (error) {
          this.logger.warn({ err: error }, "an event from NATS could not be read; reading the outbox instead");
          emitter.catchUp();
          continue;
        }
        emitter.heard([event]);
      }
    })();
    return async () => {
      await messages.close();
      await loop.catch(() => undefined);
      await emitter.stop();
    };
  }

  readAfter(position: bigint, limit: number): Promise<BusEvent[]> {
    return this.store.readAfter(position, limit);
  }

  head(): Promise<bigint> {
    return this.store.head();
  }

  async close(): Promise<void> {
    await this.connection.drain().catch(() => undefined);
  }
}

/**
 * JetStream's deduplication id: the same for every publication of one outbox row, different for
 * rows of different databases that happen to share an id (a rebuilt or test database).
 */
function messageId(event: BusEvent): string {
  return `outbox-${event.outboxId}-${event.createdAt.getTime()}`;
}
