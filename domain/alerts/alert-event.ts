// The `alert.created` event, owned here: its topic, the outbox payload the alert writer stores
// with each alert, what readers take back out of that payload, and the brief's webhook body.
// The relay's SQL function (realtime/events/relay-outbox.sql) names the topic too:
// test/relay-outbox-source.test.ts holds it to this one.
import type { Country, Severity } from "../../generated/prisma/enums.ts";
import type { Band } from "../diagnosis/model.ts";
import type { Firing } from "../prevention/rules.ts";

/** The outbox topic of a new alert (the relay, subscriptions and webhooks consume it). */
export const ALERT_CREATED_TOPIC = "alert.created";

/** A firing that became an alert: whose, where and when (cool-downs no longer matter). */
export interface RaisedAlert extends Omit<Firing, "coolDownDays"> {
  id: string;
  userId: string;
  country: Country;
  createdAt: Date;
}

/** The `alert.created` outbox event's payload: the brief's webhook body plus the alert's id, type and severity. */
export interface AlertCreatedEvent {
  event: typeof ALERT_CREATED_TOPIC;
  alert_id: string;
  user_id: string;
  type: string;
  severity: Lowercase<Severity>;
  risk_band: Lowercase<Band>;
  contributing_factors: string[];
  suggested_action: string;
  created_at: string;
  /** Present (true) only on alerts raised by the sandbox trigger. */
  sandbox?: true;
}

export function alertCreatedEvent(alert: RaisedAlert, options: { sandbox?: boolean } = {}): AlertCreatedEvent {
  const event: AlertCreatedEvent = {
    event: ALERT_CREATED_TOPIC,
    alert_id: alert.id,
    user_id: alert.userId,
    type: alert.type,
    severity: alert.severity.toLowerCase() as Lowercase<Severity>,
    risk_band: alert.riskBand.toLowerCase() as Lowercase<Band>,
    contributing_factors: alert.contributingFactors,
    suggested_action: alert.suggestedAction,
    created_at: alert.createdAt.toISOString(),
  };
  return options.sandbox ? { ...event, sandbox: true } : event;
}

/** What the parser reads of a published event (the event bus's BusEvent has it). */
export interface PublishedEvent {
  topic: string;
  aggregateId: string;
  country: string;
  payload: unknown;
}

/** Who an alert is about and how severe it is (severity in upper case, as the enum spells it). */
export interface AlertFacts {
  alertId: string;
  userId: string;
  severity: string;
  country: string;
}

/**
 * Who an alert event is about, as the alert writer put it in the event (it commits the alert and
 * its event together); undefined when the event is not `alert.created` or does not say.
 */
export function alertFactsOf(event: PublishedEvent): AlertFacts | undefined {
  if (event.topic !== ALERT_CREATED_TOPIC) return undefined;
  const payload = event.payload as { user_id?: unknown; severity?: unknown } | null;
  if (typeof payload?.user_id !== "string" || typeof payload.severity !== "string") return undefined;
  return { alertId: event.aggregateId, userId: payload.user_id, severity: payload.severity.toUpperCase(), country: event.country };
}

/**
 * The brief's `alert.created` webhook body (a contract: event, user_id, risk_band,
 * contributing_factors, suggested_action), plus the message id, the alert's time and what a
 * partner needs to act on the alert: its id (acknowledgeAlert / resolveAlert, GET /v1/alerts),
 * type and severity.
 */
export interface AlertWebhookBody {
  id: string;
  event: typeof ALERT_CREATED_TOPIC;
  created_at: string;
  alert_id: string;
  type: string;
  severity: Lowercase<Severity>;
  user_id: string;
  /** The receiving client's own ids for the person, when the person linked them (issue 21, item 1); null otherwise. */
  partner_ref: { customer_id: string; bureau_id: string | null } | null;
  risk_band: string;
  contributing_factors: string[];
  suggested_action: string;
}

/** What the webhook body says of an alert, as its row holds it. */
export interface AlertForWebhook {
  id: string;
  type: string;
  severity: Severity;
  userId: string;
  /** The receiving client's own ids for the person; null when not linked. */
  partnerRef: { customerId: string; bureauId: string | null } | null;
  riskBand: string;
  contributingFactors: string[];
  suggestedAction: string;
  createdAt: Date;
}

/** The webhook-id of an event: the same on every attempt, so a receiver can drop duplicates. */
export function messageId(outboxId: bigint): string {
  return `msg_${outboxId}`;
}

export function alertWebhookBody(outboxId: bigint, alert: AlertForWebhook): AlertWebhookBody {
  return {
    id: messageId(outboxId),
    event: ALERT_CREATED_TOPIC,
    created_at: alert.createdAt.toISOString(),
    alert_id: alert.id,
    type: alert.type,
    severity: alert.severity.toLowerCase() as Lowercase<Severity>,
    user_id: alert.userId,
    partner_ref: alert.partnerRef && { customer_id: alert.partnerRef.customerId, bureau_id: alert.partnerRef.bureauId },
    risk_band: alert.riskBand.toLowerCase(),
    contributing_factors: alert.contributingFactors,
    suggested_action: alert.suggestedAction,
  };
}
