// How each generated row maps onto its table's columns (names as in prisma/schema.prisma's
// @map). The writers are listed in foreign-key order: a batch is written top to bottom.
import { type Column, type TableSpec, TableWriter, textArrayLiteral, type Writable } from "./bulk-writer.ts";
import { isoDay, isoTimestamp } from "./calendar.ts";
import type { PartnerClientRecord } from "./reference-data.ts";
import {
  type AlertRow,
  type CoachSessionRow,
  type ConsentEventRow,
  type ConsentRow,
  type DailyScoresRow,
  type DebtPaymentRow,
  type DebtRow,
  type ExpenseRow,
  formatCents,
  type GoalRow,
  type Household,
  type IncomeRow,
  type SnapshotRow,
  type SealedTranscriptRow,
  type TranscriptRow,
  type UserRow,
} from "./rows.ts";

/** Free text: escaped for COPY. */
const text = <R>(name: string, value: (row: R) => string | null): Column<R> => ({ name, value, escape: true });
/** Generated ids, enum values and fixed vocabulary: never need escaping. */
const code = <R>(name: string, value: (row: R) => string | null): Column<R> => ({ name, value, escape: false });
const money = <R>(name: string, value: (row: R) => number): Column<R> => code(name, (row) => formatCents(value(row)));
const optionalMoney = <R>(name: string, value: (row: R) => number | null): Column<R> =>
  code(name, (row) => {
    const cents = value(row);
    return cents === null ? null : formatCents(cents);
  });
const day = <R>(name: string, value: (row: R) => number | null): Column<R> =>
  code(name, (row) => {
    const d = value(row);
    return d === null ? null : isoDay(d);
  });
const instant = <R>(name: string, value: (row: R) => number | null): Column<R> =>
  code(name, (row) => {
    const ms = value(row);
    return ms === null ? null : isoTimestamp(ms);
  });
const int = <R>(name: string, value: (row: R) => number): Column<R> => code(name, (row) => String(value(row)));
const textArray = <R>(name: string, value: (row: R) => readonly string[]): Column<R> => text(name, (row) => textArrayLiteral(value(row)));
const json = <R>(name: string, value: (row: R) => unknown): Column<R> => text(name, (row) => JSON.stringify(value(row)));
const country = <R extends { country: string }>(): Column<R> => code("country", (row) => row.country);

export const partnerClientTable: TableSpec<PartnerClientRecord> = {
  table: "partner_client",
  columns: [
    code("id", (r) => r.id),
    text("name", (r) => r.name),
    code("secret_hash", (r) => r.secretHash),
    code("status", () => "ACTIVE"),
    code("countries", (r) => textArrayLiteral(r.countries)),
    textArray("allowed_scopes", (r) => r.allowedScopes),
    textArray("client_scopes", (r) => r.clientScopes),
    code("sandbox", (r) => String(r.sandbox)),
    instant("created_at", (r) => r.createdAt),
  ],
};

export interface ConsentTextRecord {
  version: string;
  language: string;
  sha256: string;
  publishedAt: number;
}

export const consentTextTable: TableSpec<ConsentTextRecord> = {
  table: "consent_text_version",
  columns: [
    code("version", (r) => r.version),
    code("language", (r) => r.language),
    code("sha256", (r) => r.sha256),
    instant("published_at", (r) => r.publishedAt),
  ],
};

const userTable: TableSpec<UserRow> = {
  table: "app_user",
  columns: [
    code("id", (r) => r.id),
    country(),
    code("national_id_digest", (r) => r.nationalIdDigest),
    int("household_size", (r) => r.householdSize),
    instant("created_at", (r) => r.createdAt),
  ],
};

const consentTable: TableSpec<ConsentRow> = {
  table: "consent",
  columns: [
    code("id", (r) => r.id),
    code("client_id", (r) => r.clientId),
    code("user_id", (r) => r.userId),
    country(),
    code("status", (r) => r.status),
    textArray("scopes", (r) => r.scopes),
    code("consent_text_version", (r) => r.consentTextVersion),
    instant("created_at", (r) => r.createdAt),
    instant("authorised_at", (r) => r.authorisedAt),
    instant("expires_at", (r) => r.expiresAt),
  ],
};

const consentEventTable: TableSpec<ConsentEventRow> = {
  table: "consent_event",
  serialId: true,
  columns: [
    code("consent_id", (r) => r.consentId),
    code("status", (r) => r.status),
    text("reason", (r) => r.reason),
    instant("at", (r) => r.at),
  ],
};

const debtTable: TableSpec<DebtRow> = {
  table: "debt",
  columns: [
    code("id", (r) => r.id),
    code("user_id", (r) => r.userId),
    country(),
    text("issuer", (r) => r.issuer),
    code("type", (r) => r.type),
    money("principal", (r) => r.principal),
    money("balance", (r) => r.balance),
    optionalMoney("credit_limit", (r) => r.creditLimit),
    money("minimum_payment", (r) => r.minimumPayment),
    code("currency", (r) => r.currency),
    code("apr", (r) => r.apr.toFixed(4)),
    day("due_date", (r) => r.dueDate),
    code("status", (r) => r.status),
    day("opened_at", (r) => r.openedAt),
    instant("updated_at", (r) => r.updatedAt),
  ],
};

const debtPaymentTable: TableSpec<DebtPaymentRow> = {
  table: "debt_payment",
  serialId: true,
  columns: [
    code("debt_id", (r) => r.debtId),
    code("user_id", (r) => r.userId),
    country(),
    day("due_date", (r) => r.dueDate),
    money("amount_due", (r) => r.amountDue),
    money("amount_paid", (r) => r.amountPaid),
    day("paid_at", (r) => r.paidAt),
    code("status", (r) => r.status),
  ],
};

const expenseTable: TableSpec<ExpenseRow> = {
  table: "expense",
  serialId: true,
  columns: [
    code("user_id", (r) => r.userId),
    country(),
    money("amount", (r) => r.amount),
    code("currency", (r) => r.currency),
    code("mcc", (r) => r.mcc),
    code("category", (r) => r.category),
    text("merchant", (r) => r.merchant),
    instant("occurred_at", (r) => r.occurredAt),
  ],
};

const incomeTable: TableSpec<IncomeRow> = {
  table: "income_stream",
  columns: [
    code("id", (r) => r.id),
    code("user_id", (r) => r.userId),
    country(),
    text("source", (r) => r.source),
    code("kind", (r) => r.kind),
    money("monthly_amount", (r) => r.monthlyAmount),
    code("currency", (r) => r.currency),
    day("started_at", (r) => r.startedAt),
    day("ended_at", (r) => r.endedAt),
  ],
};

const goalTable: TableSpec<GoalRow> = {
  table: "savings_goal",
  columns: [
    code("id", (r) => r.id),
    code("user_id", (r) => r.userId),
    country(),
    code("kind", (r) => r.kind),
    text("name", (r) => r.name),
    money("target_amount", (r) => r.targetAmount),
    money("current_amount", (r) => r.currentAmount),
    code("currency", (r) => r.currency),
    day("target_date", (r) => r.targetDate),
    code("status", (r) => r.status),
    instant("created_at", (r) => r.createdAt),
  ],
};

const coachSessionTable: TableSpec<CoachSessionRow> = {
  table: "coach_session",
  columns: [
    code("id", (r) => r.id),
    code("user_id", (r) => r.userId),
    country(),
    instant("started_at", (r) => r.startedAt),
    instant("ended_at", (r) => r.endedAt),
    code("intent", (r) => r.intent),
    code("sentiment", (r) => r.sentiment.toFixed(3)),
    int("message_count", (r) => r.messageCount),
  ],
};

const transcriptTable: TableSpec<SealedTranscriptRow> = {
  table: "coach_transcript",
  columns: [code("session_id", (r) => r.sessionId), country(), text("text", (r) => r.text), code("data_key_id", (r) => r.dataKeyId)],
};

const snapshotTable: TableSpec<SnapshotRow> = {
  table: "wellness_snapshot",
  columns: [
    code("id", (r) => r.id),
    code("user_id", (r) => r.userId),
    country(),
    day("snapshot_date", (r) => r.snapshotDate),
    int("score", (r) => r.score),
    code("band", (r) => r.band),
    int("trend_30d", (r) => r.trend30d),
    json("factors", (r) => r.factors),
    json("action_plan", (r) => r.actionPlan),
    instant("computed_at", (r) => r.computedAt),
    day("next_review_at", (r) => r.nextReviewAt),
  ],
};

/** `{NULL,NULL,64,63,...}`: the holes before a year's first day are NULL, so indexes stay days of the year. */
function scoreArrayLiteral(scores: readonly (number | undefined)[]): string {
  let text = "{";
  for (let i = 0; i < scores.length; i++) {
    if (i > 0) text += ",";
    const score = scores[i];
    text += score === undefined ? "NULL" : String(score);
  }
  return `${text}}`;
}

export const dailyScoresTable: TableSpec<DailyScoresRow> = {
  table: "wellness_daily",
  columns: [code("user_id", (r) => r.userId), country(), int("year", (r) => r.year), code("scores", (r) => scoreArrayLiteral(r.scores))],
};

const alertTable: TableSpec<AlertRow> = {
  table: "alert",
  columns: [
    code("id", (r) => r.id),
    code("user_id", (r) => r.userId),
    country(),
    code("type", (r) => r.type),
    code("risk_band", (r) => r.riskBand),
    code("severity", (r) => r.severity),
    textArray("contributing_factors", (r) => r.contributingFactors),
    code("suggested_action", (r) => r.suggestedAction),
    code("rule_id", (r) => r.ruleId),
    code("status", (r) => r.status),
    instant("created_at", (r) => r.createdAt),
    instant("acknowledged_at", (r) => r.acknowledgedAt),
    instant("resolved_at", (r) => r.resolvedAt),
  ],
};

/**
 * One writer per per-user table, in foreign-key order. `sealTranscript` encrypts the raw coach
 * text as it is written: no plaintext transcript reaches the database.
 */
export function householdWriters(sealTranscript: (row: TranscriptRow) => SealedTranscriptRow) {
  const writers = {
    users: new TableWriter(userTable),
    consents: new TableWriter(consentTable),
    consentEvents: new TableWriter(consentEventTable),
    debts: new TableWriter(debtTable),
    debtPayments: new TableWriter(debtPaymentTable),
    expenses: new TableWriter(expenseTable),
    incomeStreams: new TableWriter(incomeTable),
    goals: new TableWriter(goalTable),
    coachSessions: new TableWriter(coachSessionTable),
    transcripts: new TableWriter(transcriptTable),
    snapshots: new TableWriter(snapshotTable),
    dailyScores: new TableWriter(dailyScoresTable),
    alerts: new TableWriter(alertTable),
  };
  const add = (household: Household): void => {
    writers.users.add(household.user);
    if (household.consent) writers.consents.add(household.consent);
    for (const row of household.consentEvents) writers.consentEvents.add(row);
    for (const row of household.debts) writers.debts.add(row);
    for (const row of household.debtPayments) writers.debtPayments.add(row);
    for (const row of household.expenses) writers.expenses.add(row);
    for (const row of household.incomeStreams) writers.incomeStreams.add(row);
    for (const row of household.goals) writers.goals.add(row);
    for (const row of household.coachSessions) writers.coachSessions.add(row);
    for (const row of household.transcripts) writers.transcripts.add(sealTranscript(row));
    for (const row of household.snapshots) writers.snapshots.add(row);
    for (const row of household.dailyScores) writers.dailyScores.add(row);
    for (const row of household.alerts) writers.alerts.add(row);
  };
  const ordered: Writable[] = Object.values(writers);
  return { writers, ordered, add };
}
