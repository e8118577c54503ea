import type { Prisma } from "../../generated/prisma/client.ts";
import { ALERT_CREATED, type BusEvent } from "../../runtime/events/event-bus.ts";

/**
 * Runs inside the relay's publishing transaction: one PENDING delivery per (endpoint, event) for
 * every active endpoint that asked for the event's topic and whose client holds an authorised,
 * unexpired consent from the alert's person covering alerts.read in the alert's country. The row
 * exists as soon as the event is published, so a dispatcher that dies loses nothing. Returns
 * how many deliveries it created.
 */
export async function fanOutWebhooks(tx: Prisma.TransactionClient, events: readonly BusEvent[]): Promise<number> {
  const ids = events.filter((event) => event.topic === ALERT_CREATED).map((event) => event.outboxId);
  if (ids.length === 0) return 0;
  return tx.$executeRaw`
    INSERT INTO webhook_delivery (id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
    SELECT 'whd_' || replace(gen_random_uuid()::text, '-', ''), e.id, o.id, 'PENDING', 0, now(), now()
    FROM outbox_event o
    JOIN alert a ON a.id = o.aggregate_id
    JOIN webhook_endpoint e ON e.status = 'ACTIVE' AND o.topic = ANY(e.events)
    JOIN partner_client p ON p.id = e.client_id AND p.status = 'ACTIVE' AND a.country = ANY(p.countries)
    WHERE o.id = ANY(${ids}::bigint[])
      AND EXISTS (
        SELECT 1 FROM consent c
        WHERE c.client_id = e.client_id AND c.user_id = a.user_id AND c.country = a.country
          AND c.status = 'AUTHORISED' AND (c.expires_at IS NULL OR c.expires_at > now())
          AND 'alerts.read' = ANY(c.scopes)
      )
    ON CONFLICT (endpoint_id, event_id) DO NOTHING`;
}
