-- The outbox relay's statement, relay_outbox (runtime/events/outbox-relay.ts), read the whole
-- outbox to position a few rows. Its next batch came from a walk of the primary key filtered on
-- position IS NULL whenever the statistics said most rows were unpositioned (a fresh table, or
-- autovacuum behind), and its UPDATE joined that batch, estimated at the full batch size, to a
-- sequential scan of the table. Each run then cost time in proportion to the outbox: 1.3-1.9 ms
-- at 5,000 rows in bench:realtime. Now the batch is read from a partial index of the
-- unpositioned rows, and the UPDATE finds its rows by primary key from the batch's ids. What the
-- function does is unchanged: see prisma/migrations/20261126163000_relay_outbox_function.
CREATE INDEX "outbox_event_unpositioned_idx" ON "outbox_event" ("id") WHERE "position" IS NULL;

CREATE OR REPLACE FUNCTION "relay_outbox"(batch integer, announce_channel text)
  RETURNS TABLE ("position" bigint, "id" bigint, "topic" text, "aggregateId" text, "country" text, "payload" jsonb, "createdAt" timestamptz, "deliveries" integer)
  LANGUAGE plpgsql AS E'
#variable_conflict use_column
DECLARE
  moved bigint[]\073
  created integer\073
  notice text\073
  last_position text\073
  base bigint\073
BEGIN
  PERFORM pg_advisory_xact_lock(1330992450)\073
  SELECT coalesce(array_agg(pending.id ORDER BY pending.id), ARRAY[]::bigint[]) INTO moved
    FROM (SELECT o.id FROM outbox_event o WHERE o.position IS NULL ORDER BY o.id LIMIT batch) AS pending\073
  IF cardinality(moved) = 0 THEN RETURN\073 END IF\073
  SELECT coalesce(max(o.position), 0) INTO base FROM outbox_event o\073
  UPDATE outbox_event o SET position = base + pending.n,
      published_at = CASE WHEN announce_channel IS NULL THEN NULL ELSE now() END
    FROM unnest(moved) WITH ORDINALITY AS pending(id, n) WHERE o.id = pending.id\073
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
