// `Mutation.raiseSandboxAlert`: a sandbox client's test trigger, as a sandbox fires a webhook on
// demand (Plaid's `/sandbox/item/fire_webhook`). The alert is built from its rule in rules.json
// and stored by the prevention engine's own writer (alert row + `alert.created` outbox event, one
// transaction), so it travels exactly the path of a real one: relay, subscriptions, webhooks,
// GET /v1/alerts. It is a test, so cool-downs do not hold it back, and it does not start one:
// its `rule_id` carries the sandbox prefix and the outbox payload says `"sandbox": true`.
import { randomBytes } from "node:crypto";
import type { Severity } from "../../generated/prisma/enums.ts";
import { badUserInput, graphQLError } from "../../platform/errors.ts";
import { tenantOf } from "../../platform/auth/tenant.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import type { RaisedAlert } from "../../domain/alerts/alert-event.ts";
import type { Band } from "../../domain/diagnosis/model.ts";
import { writeAlerts } from "./prevention/evaluate.ts";
import { RULES, type RuleSet } from "../../domain/prevention/rules.ts";
import type { PersonAccess } from "../shared/person-access.ts";
import type { AlertRow } from "./service.ts";

/** The alert types the sandbox can raise: one per prevention rule. */
export function sandboxAlertTypes(rules: RuleSet = RULES): string[] {
  return rules.rules.map((rule) => rule.definition.type);
}

/**
 * Raises a test alert of `type` for `requested` (a consent token's own person when omitted; a
 * partner token must name one). FORBIDDEN unless the token's client is a sandbox client;
 * BAD_USER_INPUT for an unknown type (the message lists the valid ones) or a partner token
 * without `userId`; NOT_FOUND for a person the caller cannot see; UNAUTHORIZED_FIELD_OR_TYPE
 * when that person's consent does not cover what the field needs in the SDL (alerts.read:
 * raising an alert takes the same consent as reading it).
 */
export async function raiseSandboxAlert(
  prisma: PrismaClient,
  viewer: Viewer,
  person: PersonAccess,
  type: string,
  requested: string | undefined,
  now: Date = new Date(),
  rules: RuleSet = RULES,
): Promise<AlertRow> {
  // First, so a live client learns nothing else from this field.
  const client = await prisma.partnerClient.findUnique({ where: { id: viewer.clientId }, select: { sandbox: true } });
  if (!client?.sandbox) {
    throw graphQLError("FORBIDDEN", `raiseSandboxAlert exists only in the sandbox: client ${viewer.clientId} is not a sandbox client`);
  }
  const rule = rules.rules.find((candidate) => candidate.definition.type === type)?.definition;
  if (!rule) throw badUserInput(`Unknown alert type \`${type}\`; one of: ${sandboxAlertTypes(rules).join(", ")}`, "type");

  let userId: string;
  if (viewer.kind === "consent") {
    userId = requested ?? viewer.userId;
    if (userId !== viewer.userId) throw graphQLError("NOT_FOUND", `No user ${userId}`);
  } else {
    if (requested === undefined) {
      throw badUserInput(`\`userId\` is required with a partner token: name a person whose consent for this client covers ${person.needs}`, "userId");
    }
    userId = requested;
  }
  const user = await prisma.user.findFirst({ where: { id: userId, country: { in: [...tenantOf(viewer)] } }, select: { id: true, country: true } });
  if (!user || !(await person.sees(userId))) throw graphQLError("NOT_FOUND", `No user ${userId}`);
  const grant = await person.authorise(userId);
  if (!grant) throw person.refusal(`raise an alert for ${userId}`);

  const alert: RaisedAlert = {
    id: `alr_${randomBytes(8).toString("hex")}`,
    userId: user.id,
    country: user.country,
    ruleId: rule.id,
    type: rule.type,
    severity: rule.severity as Severity,
    riskBand: rule.risk_band.toUpperCase() as Band,
    contributingFactors: [...rule.contributing_factors],
    suggestedAction: rule.suggested_action,
    createdAt: now,
    evidence: {},
  };
  await prisma.$transaction((tx) => writeAlerts(tx, [alert], { sandbox: true }));
  person.record(grant);
  return {
    id: alert.id,
    userId: alert.userId,
    type: alert.type,
    riskBand: alert.riskBand,
    severity: alert.severity,
    contributingFactors: alert.contributingFactors,
    suggestedAction: alert.suggestedAction,
    status: "OPEN",
    createdAt: alert.createdAt,
    acknowledgedAt: null,
    resolvedAt: null,
  };
}
