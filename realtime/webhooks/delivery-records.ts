import { Prisma } from "../../generated/prisma/client.ts";
import type { Severity } from "../../generated/prisma/enums.ts";
import { consentCovers } from "../../platform/auth/consent-coverage.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { queryRows } from "../../platform/database/prepared-reads.ts";
import { StatementBatcher } from "../../platform/database/statement-batcher.ts";
import { PRODUCTS } from "../../platform/metering/usage-counter.ts";

/** What sending one delivery needs, read when it is sent (consent included: a revocation since the event stops it). */
export interface DeliveryContext {
  url: string;
  secretEncrypted: string;
  endpointStatus: string;
  clientId: string;
  clientStatus: string;
  sandbox: boolean;
  alertId: string | null;
  alertType: string | null;
  severity: Severity | null;
  userId: string | null;
  riskBand: string | null;
  contributingFactors: string[] | null;
  suggestedAction: string | null;
  alertCreatedAt: Date | null;
  consented: boolean;
}

/** How an attempt ended for good: delivered, or dead (no attempts left, or nothing to send). */
export interface FinalOutcome {
  id: string;
  status: "DELIVERED" | "DEAD";
  code: number | null;
  error: string | null;
  /** Whether this counts as an attempt (a request was sent or tried). */
  counted: boolean;
}

/**
 * The dispatcher's per-delivery reads and final writes, each shared by the deliveries that ask at
 * the same moment (StatementBatcher): one statement reads the context of every delivery starting
 * now, and one records every delivery that has just ended, with the usage counts of those newly
 * delivered. At two thousand deliveries a second that is a few statements per batch instead of
 * two per delivery. A write joins only a statement that has not started, so a delivery is
 * recorded after its answer arrived; one lost with its process keeps its lease and is sent again
 * (at least once, as before).
 */
export class DeliveryRecords {
  private readonly contexts = new StatementBatcher<string, DeliveryContext | undefined>((ids) => this.readContexts(ids), 500);
  private readonly finals = new StatementBatcher<FinalOutcome, void>((outcomes) => this.writeFinals(outcomes), 500);

  constructor(private readonly prisma: PrismaClient) {}

  context(deliveryId: string): Promise<DeliveryContext | undefined> {
    return this.contexts.add(deliveryId);
  }

  finish(outcome: FinalOutcome): Promise<void> {
    return this.finals.add(outcome);
  }

  private async readContexts(ids: readonly string[]): Promise<(DeliveryContext | undefined)[]> {
    const rows = await queryRows<DeliveryContext & { id: string }>(this.prisma, Prisma.sql`
      SELECT d.id, e.url, e.secret_encrypted AS "secretEncrypted", e.status::text AS "endpointStatus", e.client_id AS "clientId", p.status::text AS "clientStatus", p.sandbox,
             a.id AS "alertId", a.type AS "alertType", a.severity::text AS "severity",
             a.user_id AS "userId", a.risk_band::text AS "riskBand", a.contributing_factors AS "contributingFactors",
             a.suggested_action AS "suggestedAction", a.created_at AS "alertCreatedAt",
             EXISTS (
               SELECT 1 FROM consent c
               WHERE c.client_id = e.client_id AND c.user_id = a.user_id AND c.country = a.country
                 AND ${consentCovers("c", "alerts.read")}
             ) AS consented
      FROM webhook_delivery d
      JOIN webhook_endpoint e ON e.id = d.endpoint_id
      JOIN partner_client p ON p.id = e.client_id
      JOIN outbox_event o ON o.id = d.event_id
      LEFT JOIN alert a ON a.id = o.aggregate_id
      WHERE d.id = ANY(${[...ids]}::text[])`);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id));
  }

  /** A delivered webhook is a billable call (metering), counted once by the statement that records it delivered. */
  private async writeFinals(outcomes: readonly FinalOutcome[]): Promise<void[]> {
    const deliveredAt = new Date();
    await queryRows(this.prisma, Prisma.sql`
      WITH outcome AS (
        SELECT * FROM unnest(${outcomes.map((outcome) => outcome.id)}::text[], ${outcomes.map((outcome) => outcome.status)}::text[],
                             ${outcomes.map((outcome) => outcome.code)}::int[], ${outcomes.map((outcome) => outcome.error)}::text[],
                             ${outcomes.map((outcome) => (outcome.counted ? 1 : 0))}::int[])
          AS o(id, status, code, error, counted)
      ), before AS (
        SELECT d.id, d.status, e.client_id FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id JOIN outcome o ON o.id = d.id
      ), billed AS (
        INSERT INTO usage_counter (client_id, product, day, count)
        SELECT b.client_id, ${PRODUCTS.webhook}::text, (now() AT TIME ZONE 'UTC')::date, count(*)
        FROM before b JOIN outcome o ON o.id = b.id
        WHERE o.status = 'DELIVERED' AND b.status <> 'DELIVERED'
        GROUP BY b.client_id
        ON CONFLICT (client_id, product, day) DO UPDATE SET count = usage_counter.count + EXCLUDED.count
      )
      UPDATE webhook_delivery d SET status = o.status::"DeliveryStatus", attempts = d.attempts + o.counted, last_status_code = o.code,
        last_error = o.error, delivered_at = CASE WHEN o.status = 'DELIVERED' THEN ${deliveredAt}::timestamptz END, leased_until = NULL
      FROM outcome o WHERE d.id = o.id`);
    return outcomes.map(() => undefined);
  }
}
