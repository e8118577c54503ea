-- CreateIndex
CREATE INDEX "outbox_event_aggregate_id_idx" ON "outbox_event"("aggregate_id");
