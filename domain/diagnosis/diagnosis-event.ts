// The `wellness.diagnosed` event, owned here: its topic, the outbox payload the diagnosis writes
// with a person's snapshot, and what a consumer takes back out of it. It stays inside the
// platform (prevention consumes it); webhooks and subscriptions carry `alert.created` alone.

/** The outbox topic of a stored diagnosis. */
export const WELLNESS_DIAGNOSED_TOPIC = "wellness.diagnosed";

/** The `wellness.diagnosed` outbox event's payload: whose diagnosis, for which day, computed when. */
export interface WellnessDiagnosedEvent {
  event: typeof WELLNESS_DIAGNOSED_TOPIC;
  user_id: string;
  /** The snapshot's day, `YYYY-MM-DD`. */
  snapshot_date: string;
  computed_at: string;
}

/** What the payload says of a stored snapshot. */
export interface DiagnosedSnapshot {
  userId: string;
  snapshotDate: Date;
  computedAt: Date;
}

export function wellnessDiagnosedEvent(snapshot: DiagnosedSnapshot): WellnessDiagnosedEvent {
  return {
    event: WELLNESS_DIAGNOSED_TOPIC,
    user_id: snapshot.userId,
    snapshot_date: snapshot.snapshotDate.toISOString().slice(0, 10),
    computed_at: snapshot.computedAt.toISOString(),
  };
}

/** What the parser reads of a published event (the event bus's BusEvent has it). */
export interface TopicAndPayload {
  topic: string;
  payload: unknown;
}

/** The diagnosis an event announces; undefined when the event is not `wellness.diagnosed` or does not say whose. */
export function wellnessDiagnosedOf(event: TopicAndPayload): WellnessDiagnosedEvent | undefined {
  if (event.topic !== WELLNESS_DIAGNOSED_TOPIC) return undefined;
  const payload = event.payload as Partial<Record<keyof WellnessDiagnosedEvent, unknown>> | null;
  if (payload?.event !== WELLNESS_DIAGNOSED_TOPIC || typeof payload.user_id !== "string" || payload.user_id === "") return undefined;
  if (typeof payload.snapshot_date !== "string" || typeof payload.computed_at !== "string") return undefined;
  return { event: WELLNESS_DIAGNOSED_TOPIC, user_id: payload.user_id, snapshot_date: payload.snapshot_date, computed_at: payload.computed_at };
}
