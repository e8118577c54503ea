-- AlterTable
ALTER TABLE "outbox_event" ADD COLUMN     "position" BIGINT;

-- AlterTable
ALTER TABLE "webhook_delivery" ADD COLUMN     "leased_until" TIMESTAMPTZ(3);

-- CreateIndex
CREATE UNIQUE INDEX "outbox_event_position_key" ON "outbox_event"("position");

-- Wakes the outbox relay as soon as a transaction that wrote outbox rows commits
-- (NOTIFY is delivered on commit). The relay also polls, so this only shortens latency.
-- The body is an E'' string with \073 for each semicolon: the PostgreSQL driver adapter splits
-- migration scripts at every semicolon, dollar-quoted bodies included.
CREATE OR REPLACE FUNCTION "outbox_event_notify"() RETURNS trigger LANGUAGE plpgsql
  AS E'BEGIN PERFORM pg_notify(''kamina_outbox'', '''')\073 RETURN NULL\073 END'
;

CREATE TRIGGER "outbox_event_notify" AFTER INSERT ON "outbox_event"
  FOR EACH STATEMENT EXECUTE FUNCTION "outbox_event_notify"();
