// The `household.changed` event: a person's expenses, debts, debt payments, income streams or
// goals changed (the Kamina app's write path, an import). Written to the outbox in the write's
// transaction; the household-change consumer re-runs that person's diagnosis and prevention
// rules. It stays inside the platform: webhooks and subscriptions carry `alert.created` alone.

export const HOUSEHOLD_CHANGED_TOPIC = "household.changed";

export const HOUSEHOLD_RECORD_KINDS = ["expense", "debt", "debt_payment", "income_stream", "savings_goal", "import"] as const;
export type HouseholdRecordKind = (typeof HOUSEHOLD_RECORD_KINDS)[number];

export interface HouseholdChangedEvent {
  event: typeof HOUSEHOLD_CHANGED_TOPIC;
  user_id: string;
  kind: HouseholdRecordKind;
  /** The record written (for an import, the count of expenses it added). */
  record_id: string;
  change: "created" | "updated";
}

export function householdChangedEvent(userId: string, kind: HouseholdRecordKind, recordId: string, change: "created" | "updated"): HouseholdChangedEvent {
  return { event: HOUSEHOLD_CHANGED_TOPIC, user_id: userId, kind, record_id: recordId, change };
}

/** The person an event names; undefined when the event is not `household.changed` or names nobody. */
export function householdChangedOf(event: { topic: string; payload: unknown }): HouseholdChangedEvent | undefined {
  if (event.topic !== HOUSEHOLD_CHANGED_TOPIC) return undefined;
  const payload = event.payload as Partial<Record<keyof HouseholdChangedEvent, unknown>> | null;
  if (payload?.event !== HOUSEHOLD_CHANGED_TOPIC || typeof payload.user_id !== "string" || payload.user_id === "") return undefined;
  const kind = HOUSEHOLD_RECORD_KINDS.find((candidate) => candidate === payload.kind);
  if (!kind || typeof payload.record_id !== "string" || (payload.change !== "created" && payload.change !== "updated")) return undefined;
  return { event: HOUSEHOLD_CHANGED_TOPIC, user_id: payload.user_id, kind, record_id: payload.record_id, change: payload.change };
}
