-- The outbox relay's run in one round trip (runtime/events/outbox-relay.ts).
-- Under a transaction-scoped advisory lock, which serialises the relays of every instance, it
-- gives the next `batch` unpositioned rows the positions max+1, max+2, ... in id order. Because
-- the positions become visible only when this transaction commits, a reader that has seen
-- position n has seen every position below it. In the same transaction it creates the webhook
-- deliveries of the positioned alert events: one PENDING delivery per (endpoint, event) for
-- every active endpoint that asked for the topic and whose client holds an authorised,
-- unexpired consent from the alert's person covering alerts.read in the alert's country, so a
-- delivery exists as soon as its event has a position.
-- With `announce_channel` (the PostgreSQL event bus) it also announces them there and stamps
-- `published_at`: NOTIFY is delivered on commit, so positions, deliveries and announcement
-- happen together or not at all. The payload carries the events as the bus's WireEvent JSON
-- (runtime/events/event-bus.ts) when it fits in 7,900 bytes (NOTIFY takes under 8,000), else the last position.
-- Without it (NATS) the relay announces and stamps afterwards.
-- It returns the positioned rows in position order, each with the number of deliveries created.
-- Each statement after the lock takes its own snapshot (READ COMMITTED), so it sees every row
-- committed before the lock was granted.
-- (An E'' body with \073 for semicolons: the driver adapter splits scripts at every semicolon.)
CREATE OR REPLACE FUNCTION "relay_outbox"(batch integer, announce_channel text)
  RETURNS TABLE ("position" bigint, "id" bigint, "topic" text, "aggregateId" text, "country" text, "payload" jsonb, "createdAt" timestamptz, "deliveries" integer)
  LANGUAGE plpgsql AS E'
#variable_conflict use_column
DECLARE
  moved bigint[]\073
  created integer\073
  notice text\073
  last_position text\073
BEGIN
  PERFORM pg_advisory_xact_lock(1330992450)\073
  WITH pending AS (
    SELECT o.id, row_number() OVER (ORDER BY o.id) AS n FROM outbox_event o WHERE o.position IS NULL ORDER BY o.id LIMIT batch
  ), base AS (SELECT coalesce(max(o.position), 0) AS p FROM outbox_event o),
  positioned AS (
    UPDATE outbox_event o SET position = base.p + pending.n,
      published_at = CASE WHEN announce_channel IS NULL THEN NULL ELSE now() END
    FROM pending, base WHERE o.id = pending.id RETURNING o.id
  )
  SELECT coalesce(array_agg(positioned.id), ARRAY[]::bigint[]) INTO moved FROM positioned\073
  IF cardinality(moved) = 0 THEN RETURN\073 END IF\073
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
  IF announce_channel IS NOT NULL THEN
    SELECT json_agg(json_build_object(
             ''position'', o.position::text, ''outboxId'', o.id::text, ''topic'', o.topic, ''aggregateId'', o.aggregate_id,
             ''country'', o.country::text, ''payload'', o.payload,
             ''createdAt'', to_char(o.created_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'')
           ) ORDER BY o.position)::text,
           max(o.position)::text
      INTO notice, last_position
      FROM outbox_event o WHERE o.id = ANY(moved)\073
    PERFORM pg_notify(announce_channel, CASE WHEN octet_length(notice) <= 7900 THEN notice ELSE last_position END)\073
  END IF\073
  RETURN QUERY
    SELECT o.position, o.id, o.topic, o.aggregate_id, o.country::text, o.payload, o.created_at, created
    FROM outbox_event o WHERE o.id = ANY(moved) ORDER BY o.position\073
END'
;
