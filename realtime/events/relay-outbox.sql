-- The source of relay_outbox, the outbox relay's run in one statement
-- (realtime/events/outbox-relay.ts). A change to the function is a new migration whose
-- migration.sql is a copy of this file: test/relay-outbox-source.test.ts fails while the newest
-- migration defining the function differs from it.
--
-- Under a transaction-scoped advisory lock, which serialises the relays of every instance, it
-- gives the next `batch` unpositioned outbox rows the positions max+1, max+2, ... in id order.
-- They become visible when the transaction commits, so a reader that has seen position n has
-- seen every position below it. In the same transaction it creates one PENDING webhook delivery
-- per (endpoint, event) of the positioned alert events, for every active endpoint that asked for
-- the topic and whose client holds a consent of the alert's person, in the alert's country, that
-- covers alerts.read. With `announce_channel` (the PostgreSQL event bus) it also announces the
-- events there as the bus's WireEvent JSON arrays, in position order over as many notices as it
-- takes (each at most 7,900 bytes: a NOTIFY holds 8,000), an event too large for any notice by
-- its position alone, and stamps `published_at`. Without it (NATS) the relay does both afterwards.
-- It used to send one notice per batch, and a batch over 7,900 bytes (a busy moment, the very one
-- where latency counts) by its last position alone: every instance then read the rows back from
-- the outbox before it could hand any on.
-- It returns the positioned rows in position order, each with the number of deliveries created.
--
-- The same test holds two texts to the TypeScript that owns them: the consent condition is
-- consentCovers("c", "alerts.read") (platform/auth/consent-coverage.ts) and the topic is
-- ALERT_CREATED_TOPIC (domain/alerts/alert-event.ts).
-- The body is an E'' string, its quotes doubled and its semicolons written \073: the driver
-- adapter splits a migration at every semicolon. The UPDATE, the announcement and the final
-- SELECT run through EXECUTE, so they are planned for each run's own ids
-- (20261126234000_relay_outbox_custom_plans), and enable_seqscan is off, so every statement finds
-- its rows by key at any size of the outbox (20261126211500_relay_outbox_index_plans).
CREATE OR REPLACE FUNCTION "relay_outbox"(batch integer, announce_channel text)
  RETURNS TABLE ("position" bigint, "id" bigint, "topic" text, "aggregateId" text, "country" text, "payload" jsonb, "createdAt" timestamptz, "deliveries" integer)
  LANGUAGE plpgsql
  -- As 20261126211500_relay_outbox_index_plans set it (a replaced function keeps no setting).
  SET enable_seqscan = off
  AS E'
#variable_conflict use_column
DECLARE
  moved bigint[]\073
  created integer\073
  notice text\073
  wire record\073
  base bigint\073
BEGIN
  PERFORM pg_advisory_xact_lock(1330992450)\073
  SELECT coalesce(array_agg(pending.id ORDER BY pending.id), ARRAY[]::bigint[]) INTO moved
    FROM (SELECT o.id FROM outbox_event o WHERE o.position IS NULL ORDER BY o.id LIMIT batch) AS pending\073
  IF cardinality(moved) = 0 THEN RETURN\073 END IF\073
  SELECT coalesce(max(o.position), 0) INTO base FROM outbox_event o\073
  EXECUTE ''UPDATE outbox_event o SET position = $2 + pending.n, published_at = CASE WHEN $3 THEN now() END
             FROM unnest($1) WITH ORDINALITY AS pending(id, n) WHERE o.id = pending.id''
    USING moved, base, announce_channel IS NOT NULL\073
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
          AND c.status = ''AUTHORISED'' AND (c.expires_at IS NULL OR c.expires_at > now()) AND ''alerts.read'' = ANY(c.scopes)
      )
    ON CONFLICT (endpoint_id, event_id) DO NOTHING\073
  GET DIAGNOSTICS created = ROW_COUNT\073
  IF announce_channel IS NOT NULL THEN
    FOR wire IN EXECUTE ''SELECT json_build_object(
               ''''position'''', o.position::text, ''''outboxId'''', o.id::text, ''''topic'''', o.topic, ''''aggregateId'''', o.aggregate_id,
               ''''country'''', o.country::text, ''''payload'''', o.payload,
               ''''createdAt'''', to_char(o.created_at AT TIME ZONE ''''UTC'''', ''''YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'''')
             )::text AS event, o.position::text AS position
        FROM outbox_event o WHERE o.id = ANY($1) ORDER BY o.position''
      USING moved
    LOOP
      IF notice IS NOT NULL AND octet_length(notice) + octet_length(wire.event) + 2 > 7900 THEN
        PERFORM pg_notify(announce_channel, ''['' || notice || '']'')\073
        notice := NULL\073
      END IF\073
      IF octet_length(wire.event) + 2 > 7900 THEN
        PERFORM pg_notify(announce_channel, wire.position)\073
      ELSE
        notice := CASE WHEN notice IS NULL THEN wire.event ELSE notice || '','' || wire.event END\073
      END IF\073
    END LOOP\073
    IF notice IS NOT NULL THEN
      PERFORM pg_notify(announce_channel, ''['' || notice || '']'')\073
    END IF\073
  END IF\073
  RETURN QUERY EXECUTE
    ''SELECT o.position, o.id, o.topic, o.aggregate_id, o.country::text, o.payload, o.created_at, $2
        FROM outbox_event o WHERE o.id = ANY($1) ORDER BY o.position''
    USING moved, created\073
END'
;
