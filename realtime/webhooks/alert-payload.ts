/** The brief's `alert.created` body (a contract), plus the message id and the alert's time. */
export interface AlertCreatedPayload {
  id: string;
  event: "alert.created";
  created_at: string;
  user_id: string;
  risk_band: string;
  contributing_factors: string[];
  suggested_action: string;
}

export interface AlertForPayload {
  userId: string;
  riskBand: string;
  contributingFactors: string[];
  suggestedAction: string;
  createdAt: Date;
}

/** The webhook-id of an event: the same on every attempt, so a receiver can drop duplicates. */
export function messageId(outboxId: bigint): string {
  return `msg_${outboxId}`;
}

export function alertCreatedPayload(outboxId: bigint, alert: AlertForPayload): AlertCreatedPayload {
  return {
    id: messageId(outboxId),
    event: "alert.created",
    created_at: alert.createdAt.toISOString(),
    user_id: alert.userId,
    risk_band: alert.riskBand.toLowerCase(),
    contributing_factors: alert.contributingFactors,
    suggested_action: alert.suggestedAction,
  };
}
