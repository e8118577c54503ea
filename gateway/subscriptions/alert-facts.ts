import { ALERT_CREATED, type BusEvent } from "../../realtime/events/event-bus.ts";

export interface AlertFacts {
  alertId: string;
  userId: string;
  severity: string;
  country: string;
}

/**
 * Who an alert event is about, as the alert writer put it in the event (it commits the alert and
 * its event together); undefined when the event does not say.
 */
export function factsInEvent(event: BusEvent): AlertFacts | undefined {
  if (event.topic !== ALERT_CREATED) return undefined;
  const payload = event.payload as { user_id?: unknown; severity?: unknown } | null;
  if (typeof payload?.user_id !== "string" || typeof payload.severity !== "string") return undefined;
  return { alertId: event.aggregateId, userId: payload.user_id, severity: payload.severity.toUpperCase(), country: event.country };
}
