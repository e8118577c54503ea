-- The outbox relay's positioning run in one round trip (runtime/events/outbox-relay.ts).
-- Under a transaction-scoped advisory lock, which serialises the relays of every instance, it
-- gives the next `batch` unpositioned rows the positions max+1, max+2, ... in id order. Because
-- the positions become visible only when this transaction commits, a reader that has seen
-- position n has seen every position below it. In the same transaction it creates the webhook
-- deliveries of the positioned alert events: one PENDING delivery per (endpoint, event) for
-- every active endpoint that asked for the topic and whose client holds an authorised,
-- unexpired consent from the alert's person covering alerts.read in the alert's country, so a
-- delivery exists as soon as its event has a position. It returns the positioned rows in
-- position order, each with the number of deliveries the run created.
-- Each statement after the lock takes its own snapshot (READ COMMITTED), so it sees every row
-- committed before the lock was granted.
-- (An E'' body with \073 for semicolons: the driver adapter splits scripts at every semicolon.)
CREATE OR REPLACE FUNCTION "relay_outbox"(batch integer)
  RETURNS TABLE ("position" bigint, "id" bigint, "topic" text, "aggregateId" text, "country" text, "payload" jsonb, "createdAt" timestamptz, "deliveries" integer)
  LANGUAGE plpgsql AS E'
#variable_conflict use_column
DECLARE
  moved bigint[]\073
  created integer\073
BEGIN
  PERFORM pg_advisory_xact_lock(1330992450)\073
  WITH pending AS (
    SELECT o.id, row_number() OVER (ORDER BY o.id) AS n FROM outbox_event o WHERE o.position IS NULL ORDER BY o.id LIMIT batch
  ), base AS (SELECT coalesce(max(o.position), 0) AS p FROM outbox_event o),
  positioned AS (
    UPDATE outbox_event o SET position = base.p + pending.n FROM pending, base WHERE o.id = pending.id RETURNING o.id
  )
  SELECT coalesce(array_agg(positioned.id), ARRAY[]::bigint[]) INTO moved FROM positioned\073
  INSERT INTO webhook_delivery (id, endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
    SELECT ''whd_'' || replace(gen_random_uuid()::text, ''-'', ''''), e.id, o.id, ''PENDING'', 0, now(), now()
    FROM outbox_event o
    JOIN alert a ON a.id = o.aggregate_id
    JOIN webhook_endpoint e ON e.status = ''ACTIVE'' AND o.topic = ANY(e.events)
    JOIN partner_client p ON p.id = e.client_id AND p.status = ''ACTIVE'' AND a.country = ANY(p.countries)
    WHERE o.id = ANY(moved) AND o.topic = ''alert.created''
      AND EXISTS (
        SELECT 1 FROM consent c
        WHERE c.client_id = e.client_id AND c.user_id = a.user_id AND c.country = a.country
          AND c.status = ''AUTHORISED'' AND (c.expires_at IS NULL OR c.expires_at > now())
          AND ''alerts.read'' = ANY(c.scopes)
      )
    ON CONFLICT (endpoint_id, event_id) DO NOTHING\073
  GET DIAGNOSTICS created = ROW_COUNT\073
  RETURN QUERY
    SELECT o.position, o.id, o.topic, o.aggregate_id, o.country::text, o.payload, o.created_at, created
    FROM outbox_event o WHERE o.id = ANY(moved) ORDER BY o.position\073
END'
;
