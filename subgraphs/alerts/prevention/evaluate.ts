// Evaluates the prevention rules for people and raises their alerts. For each batch: eight
// reads to load the households, then one transaction that locks the people who have an alert
// to raise, re-reads their recent alerts (cool-downs are decided under the lock, so two
// evaluations of the same person at once cannot both raise the same type), and writes each
// alert with its `alert.created` outbox event. An alert is never stored without its event,
// nor an event without its alert. The same pass stores each person's behavioural cohort tags
// (domain/cohorts/), read from the same variables, in one more statement.
import { randomBytes } from "node:crypto";
import { Prisma, type PrismaClient } from "../../../generated/prisma/client.ts";
import { ALERT_CREATED_TOPIC, alertCreatedEvent, type RaisedAlert } from "../../../domain/alerts/alert-event.ts";
import { type Day, DAY_MS, dayOf, type Household } from "../../../domain/household/household.ts";
import { keysetRange, loadHouseholds, type LoadOptions } from "../../shared/household/load-households.ts";
import { diagnose, type Diagnosis, TREND_DAYS } from "../../../domain/diagnosis/diagnose.ts";
import { evaluateRules, type Firing, RULES, type RuleSet } from "../../../domain/prevention/rules.ts";
import { computeVariables } from "../../../domain/prevention/variables.ts";
import { cohortsOf } from "../../../domain/cohorts/cohorts.ts";
import { writeCohorts } from "./cohort-store.ts";

/**
 * Alerts raised by the sandbox trigger (`raiseSandboxAlert`) keep their rule's id behind this
 * prefix in `alert.rule_id`: they are tests, so cool-downs neither apply to them nor count them.
 */
export const SANDBOX_RULE_PREFIX = "sandbox:";
const NOT_SANDBOX = Prisma.sql`(rule_id IS NULL OR rule_id NOT LIKE ${`${SANDBOX_RULE_PREFIX}%`})`;

/** What the variables read of a household: two years of expenses (365-day windows and the 365 before). */
export function preventionLoadOptions(today: Day): LoadOptions {
  return { expenseDays: 730, paymentDays: 366, coachDays: 730, referenceDay: today - TREND_DAYS };
}

export interface EvaluationReport {
  evaluated: number;
  /** Alerts written (each with its outbox event). */
  raised: RaisedAlert[];
  /** Rules that held but whose type is still cooling down for that person. */
  suppressed: { userId: string; type: string; lastRaisedAt: Date }[];
}

export interface EvaluationOptions {
  rules?: RuleSet;
}

/** The alerts the rules would raise for one household today, and its cohort tags (pure: no cool-downs, no writes). */
export function firingsFor(household: Household, today: Day, rules: RuleSet = RULES): { diagnosis: Diagnosis; firings: Firing[]; cohorts: string[] } {
  const diagnosis = diagnose(household, today);
  const values = computeVariables(household, diagnosis);
  return { diagnosis, firings: evaluateRules(rules, values, diagnosis.band), cohorts: cohortsOf(values) };
}

export interface Candidate {
  household: Household;
  firing: Firing;
}

/** Loads what the prevention variables read of a batch of users (eight statements); `keysetPage` as for the diagnosis. */
export function loadForPrevention(prisma: PrismaClient, userIds: readonly string[], now: Date, options: { keysetPage?: boolean } = {}): Promise<Household[]> {
  const today = dayOf(now);
  return loadHouseholds(prisma, userIds, today, { ...preventionLoadOptions(today), ...keysetRange(userIds, options.keysetPage) });
}

/** Evaluates loaded households as of `now`: stores their cohort tags and raises the alerts that are not cooling down. */
export async function evaluateHouseholds(prisma: PrismaClient, households: readonly Household[], now: Date, options: EvaluationOptions = {}): Promise<EvaluationReport> {
  const rules = options.rules ?? RULES;
  const today = dayOf(now);
  const candidates: Candidate[] = [];
  const tagged: { userId: string; country: Household["country"]; tags: string[] }[] = [];
  for (const household of households) {
    const { firings, cohorts } = firingsFor(household, today, rules);
    for (const firing of firings) candidates.push({ household, firing });
    tagged.push({ userId: household.userId, country: household.country, tags: cohorts });
  }
  await writeCohorts(prisma, tagged, now);
  const report: EvaluationReport = { evaluated: households.length, raised: [], suppressed: [] };
  if (candidates.length === 0) return report;

  const people = [...new Set(candidates.map((candidate) => candidate.household.userId))].sort();
  const since = new Date(now.getTime() - rules.maxCoolDownDays * DAY_MS);
  await prisma.$transaction(
    async (tx) => {
      await tx.$queryRaw`
        SELECT count(pg_advisory_xact_lock(key))::int AS locked FROM (
          SELECT DISTINCT hashtextextended('kamina.prevention:' || id, 0) AS key FROM unnest(${people}::text[]) AS id ORDER BY key
        ) AS keys`;
      const recent = await tx.$queryRaw<{ userId: string; type: string; last: Date }[]>`
        SELECT user_id AS "userId", type, max(created_at) AS last FROM alert
        WHERE user_id = ANY(${people}::text[]) AND created_at > ${since} AND ${NOT_SANDBOX}
        GROUP BY user_id, type`;
      const lastRaised = new Map(recent.map((row) => [`${row.userId}\u0000${row.type}`, row.last]));
      for (const { household, firing } of candidates) {
        const last = lastRaised.get(`${household.userId}\u0000${firing.type}`);
        if (last !== undefined && now.getTime() - last.getTime() < firing.coolDownDays * DAY_MS) {
          report.suppressed.push({ userId: household.userId, type: firing.type, lastRaisedAt: last });
          continue;
        }
        report.raised.push({
          id: `alr_${randomBytes(8).toString("hex")}`,
          userId: household.userId,
          country: household.country,
          ruleId: firing.ruleId,
          type: firing.type,
          severity: firing.severity,
          riskBand: firing.riskBand,
          contributingFactors: firing.contributingFactors,
          suggestedAction: firing.suggestedAction,
          createdAt: now,
          evidence: firing.evidence,
        });
      }
      await writeAlerts(tx, report.raised);
    },
    { timeout: 60_000, maxWait: 10_000 },
  );
  return report;
}

/**
 * Writes alerts and their `alert.created` outbox events (one per alert) inside the caller's
 * transaction: the only way an alert is stored, by the engine and by the sandbox trigger alike.
 */
export async function writeAlerts(tx: Prisma.TransactionClient, raised: readonly RaisedAlert[], options: { sandbox?: boolean } = {}): Promise<void> {
  if (raised.length === 0) return;
  const column = <T>(pick: (alert: RaisedAlert) => T): T[] => raised.map(pick);
  const payload = (alert: RaisedAlert) => JSON.stringify(alertCreatedEvent(alert, options));
  await tx.$executeRaw`
    INSERT INTO alert (id, user_id, country, type, risk_band, severity, contributing_factors, suggested_action, rule_id, status, created_at)
    SELECT id, user_id, country::"Country", type, risk_band::"WellnessBand", severity::"Severity",
           ARRAY(SELECT jsonb_array_elements_text(factors)), suggested_action, rule_id, 'OPEN', created_at
    FROM unnest(
      ${column((a) => a.id)}::text[], ${column((a) => a.userId)}::text[], ${column((a) => a.country)}::text[],
      ${column((a) => a.type)}::text[], ${column((a) => a.riskBand)}::text[], ${column((a) => a.severity)}::text[],
      ${column((a) => JSON.stringify(a.contributingFactors))}::jsonb[], ${column((a) => a.suggestedAction)}::text[],
      ${column((a) => (options.sandbox ? `${SANDBOX_RULE_PREFIX}${a.ruleId}` : a.ruleId))}::text[], ${column((a) => a.createdAt)}::timestamptz[]
    ) AS t(id, user_id, country, type, risk_band, severity, factors, suggested_action, rule_id, created_at)`;
  await tx.$executeRaw`
    INSERT INTO outbox_event (topic, aggregate_id, country, payload, created_at)
    SELECT ${ALERT_CREATED_TOPIC}, aggregate_id, country::"Country", payload, created_at
    FROM unnest(
      ${column((a) => a.id)}::text[], ${column((a) => a.country)}::text[],
      ${column(payload)}::jsonb[], ${column((a) => a.createdAt)}::timestamptz[]
    ) AS t(aggregate_id, country, payload, created_at)`;
}

/** Evaluates a batch of users as of `now` and raises the alerts that are not cooling down. */
export async function evaluateUsers(prisma: PrismaClient, userIds: readonly string[], now: Date, options: EvaluationOptions = {}): Promise<EvaluationReport> {
  return evaluateHouseholds(prisma, await loadForPrevention(prisma, userIds, now), now, options);
}

/**
 * Evaluates one person now, for a data change that does not announce itself on the outbox (a
 * new expense, a debt or income change; a diagnosis does). Returns the alerts raised (none while
 * their types cool down).
 */
export async function evaluateUser(prisma: PrismaClient, userId: string, now: Date = new Date(), options: EvaluationOptions = {}): Promise<EvaluationReport> {
  return evaluateUsers(prisma, [userId], now, options);
}
