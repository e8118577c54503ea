// The Kamina app's write path: one transaction per write holds the idempotency record, the
// person's row change and its `household.changed` outbox event, so a write is announced exactly
// when it commits, and a retried POST (same Idempotency-Key, same body) answers the first answer
// without writing again. The household-change consumer (runtime/) re-runs the person's diagnosis
// and prevention rules from the event.
import { createHash } from "node:crypto";
import type { Country } from "../../generated/prisma/enums.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import { COUNTRY_CURRENCY } from "../../domain/household/household.ts";
import { HOUSEHOLD_CHANGED_TOPIC, householdChangedEvent, type HouseholdRecordKind } from "../../domain/household/household-change-event.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { RestError } from "../rest/envelope.ts";

export type Tx = Prisma.TransactionClient;

export interface Person {
  id: string;
  country: Country;
}

export interface RecordWrite {
  /** The written record's id, for the event. */
  recordId: string;
  /** The record as the answer shows it. */
  answer: Record<string, unknown>;
}

export interface WriteRequest {
  userId: string;
  kind: HouseholdRecordKind;
  change: "created" | "updated";
  /** The Idempotency-Key header; required on creates. */
  idempotencyKey: string | undefined;
  /** Method, path and parsed body: what a reused key must match. */
  fingerprint: string;
  run(tx: Tx, person: Person): Promise<RecordWrite>;
}

export interface WriteAnswer {
  status: number;
  body: Record<string, unknown>;
  /** True when this answer is the stored one of an earlier request with the same key. */
  replayed: boolean;
}

export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{8,128}$/;

/** Currencies a person's records may be in: their country's, and dollars (cards and loans in USD are common). */
export function checkCurrency(person: Person, currency: string | undefined): void {
  if (currency === undefined) return;
  const allowed = [...new Set([COUNTRY_CURRENCY[person.country], "USD"])];
  if (!allowed.includes(currency)) throw new RestError("BAD_USER_INPUT", `currency must be one of ${allowed.join(", ")} for a person in ${person.country}, got ${currency}`);
}

export class AppWrites {
  constructor(private readonly prisma: PrismaClient) {}

  async write(request: WriteRequest): Promise<WriteAnswer> {
    const requestHash = createHash("sha256").update(request.fingerprint).digest("hex");
    return this.prisma.$transaction(async (tx) => {
      const person = await tx.user.findUnique({ where: { id: request.userId }, select: { id: true, country: true } });
      if (!person) throw new RestError("NOT_FOUND", `No person ${request.userId}`);
      if (request.idempotencyKey !== undefined) {
        // A concurrent request with the same key waits here on the primary key until this one
        // commits (then finds its record) or rolls back (then writes itself).
        const claimed = await tx.$executeRaw`
          INSERT INTO app_write_request (user_id, idempotency_key, request_hash, status, response)
          VALUES (${person.id}, ${request.idempotencyKey}, ${requestHash}, 0, 'null'::jsonb)
          ON CONFLICT (user_id, idempotency_key) DO NOTHING`;
        if (claimed === 0) {
          const earlier = await tx.appWriteRequest.findUniqueOrThrow({ where: { userId_key: { userId: person.id, key: request.idempotencyKey } } });
          if (earlier.requestHash !== requestHash) {
            throw new RestError("CONFLICT", "This Idempotency-Key was used with another request; use a new key for a new write");
          }
          return { status: earlier.status, body: earlier.response as Record<string, unknown>, replayed: true };
        }
      }
      const written = await request.run(tx, person);
      const event = householdChangedEvent(person.id, request.kind, written.recordId, request.change);
      await tx.outboxEvent.create({ data: { topic: HOUSEHOLD_CHANGED_TOPIC, aggregateId: person.id, country: person.country, payload: { ...event } } });
      const status = request.change === "created" ? 201 : 200;
      if (request.idempotencyKey !== undefined) {
        await tx.appWriteRequest.update({
          where: { userId_key: { userId: person.id, key: request.idempotencyKey } },
          data: { status, response: written.answer as Prisma.InputJsonObject },
        });
      }
      return { status, body: written.answer, replayed: false };
    });
  }
}
