// Data-subject requests: everything about one person exported as one JSON document, or erased.
// Each writes a receipt in the audit log (`data_subject.export`, `data_subject.erase`). Erasure
// revokes the person's consents (open subscriptions close at once), deletes every row of theirs
// and what derives from them, and keeps the audit log's rows about them, pseudonymised: the
// person's id and its salt are dropped, the salted digest the hash chain covers stays, so the
// chain still verifies and the rows link to nobody (docs/compliance/retention.md).
import type { Prisma } from "../../generated/prisma/client.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import type { Logger } from "../../platform/logger.ts";
import { AuthError } from "../auth/auth-error.ts";
import { announceRevocation } from "../auth/revocation-notice.ts";
import type { PartnerIds } from "../../platform/partner-ids/partner-ids.ts";

export const EXPORT_ACTION = "data_subject.export";
export const ERASE_ACTION = "data_subject.erase";
const OPEN_CONSENTS = ["AWAITING_AUTHORISATION", "AUTHORISED"] as const;
const ERASED_PAYLOAD = JSON.stringify({ erased: true });

/** Who asked: the person through the Kamina app, or an operator (a support ticket). */
export type Requester = { kind: "app" } | { kind: "operator"; reference: string | null };

export interface SubjectExport {
  receipt_id: string;
  exported_at: string;
  person: Record<string, unknown>;
  consents: unknown[];
  wellness_snapshots: unknown[];
  /** One row per calendar year: `scores[d]` is the score of day-of-year d. */
  wellness_daily_scores: unknown[];
  savings_goals: unknown[];
  debts: unknown[];
  debt_payments: unknown[];
  expenses: unknown[];
  income_streams: unknown[];
  coach_sessions: unknown[];
  alerts: unknown[];
  /** The partner clients' own ids for the person (customer and bureau ids), opened: the person's own data. */
  partner_ids: unknown[];
  /** The behavioural cohort tags the rules give the person now, each with since-when (docs/cohorts.md). */
  cohort_tags: unknown[];
  /** Who read the person's data and when (consent receipts), and the other audit events about them. */
  audit_events: unknown[];
}

export interface ErasureReport {
  receipt_id: string;
  erased_at: string;
  /** Rows deleted, per table. */
  deleted: Record<string, number>;
  /** Consents that were still open and were revoked first. */
  revoked_consents: string[];
  /** Audit events kept with the person's id removed. */
  pseudonymised_audit_events: number;
  /** Outbox events about the person emptied (kept for their position), and their undelivered webhooks dropped. */
  emptied_events: number;
  /** SHA-256 (hex) of `subject_salt` and the person's id: the receipt's link to the person, provable only with the salt. */
  subject_digest: string;
  subject_salt: string;
}

const requesterDetail = (requester: Requester) => (requester.kind === "app" ? { requested_by: "app" } : { requested_by: "operator", reference: requester.reference });

/** Rows of a JSON document: money (Decimal) and ids (BigInt) as strings, times as ISO 8601. */
function plain<T>(rows: T): unknown {
  return JSON.parse(JSON.stringify(rows, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)));
}

export class DataSubjectRequests {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
    private readonly partnerIds: PartnerIds,
  ) {}

  /** Everything stored about `userId`, and the export's receipt. NOT_FOUND for a person not stored. */
  async export(userId: string, requester: Requester): Promise<SubjectExport> {
    const where = { userId };
    const person = await this.prisma.user.findUnique({ where: { id: userId } });
    if (!person) throw new AuthError("NOT_FOUND", `No person ${userId} is stored`);
    const [consents, snapshots, dailyScores, goals, debts, payments, expenses, incomes, sessions, alerts, partnerIds, cohortTags, auditEvents] = await Promise.all([
      this.prisma.consent.findMany({ where, include: { history: { orderBy: { at: "asc" } } }, orderBy: { createdAt: "asc" } }),
      this.prisma.wellnessSnapshot.findMany({ where, orderBy: { snapshotDate: "asc" } }),
      // Raw: a year's array holds NULL for days without a score, which Prisma's lists refuse.
      this.prisma.$queryRaw<unknown[]>`SELECT user_id AS "userId", country::text AS country, year, scores FROM wellness_daily WHERE user_id = ${userId} ORDER BY year`,
      this.prisma.savingsGoal.findMany({ where, orderBy: { createdAt: "asc" } }),
      this.prisma.debt.findMany({ where, orderBy: { openedAt: "asc" } }),
      this.prisma.debtPayment.findMany({ where, orderBy: { dueDate: "asc" } }),
      this.prisma.expense.findMany({ where, orderBy: { occurredAt: "asc" } }),
      this.prisma.incomeStream.findMany({ where, orderBy: { startedAt: "asc" } }),
      this.prisma.coachSession.findMany({ where, include: { transcript: true }, orderBy: { startedAt: "asc" } }),
      this.prisma.alert.findMany({ where, orderBy: { createdAt: "asc" } }),
      this.partnerIds.allOf(userId),
      this.prisma.cohortMembership.findMany({ where, select: { tag: true, since: true }, orderBy: { tag: "asc" } }),
      this.prisma.auditEvent.findMany({
        where,
        select: { id: true, at: true, action: true, requestId: true, clientId: true, consentId: true, country: true, scopes: true, fields: true, detail: true, chain: true, seq: true, hash: true },
        orderBy: [{ at: "asc" }, { id: "asc" }],
      }),
    ]);
    const counts = {
      consents: consents.length,
      wellness_snapshots: snapshots.length,
      wellness_daily_scores: dailyScores.length,
      savings_goals: goals.length,
      debts: debts.length,
      debt_payments: payments.length,
      expenses: expenses.length,
      income_streams: incomes.length,
      coach_sessions: sessions.length,
      alerts: alerts.length,
      partner_ids: partnerIds.length,
      cohort_tags: cohortTags.length,
      audit_events: auditEvents.length,
    };
    const receipt = await this.prisma.auditEvent.create({
      data: { action: EXPORT_ACTION, userId, country: person.country, scopes: [], fields: [], detail: { ...requesterDetail(requester), rows: counts } },
      select: { id: true, at: true },
    });
    this.logger.info({ action: EXPORT_ACTION, receiptId: receipt.id.toString(), requestedBy: requester.kind, rows: counts }, "data-subject export");
    // Refresh tokens are not exported: they are credentials (stored hashed), not data about the person.
    return {
      receipt_id: receipt.id.toString(),
      exported_at: receipt.at.toISOString(),
      person: plain(person) as Record<string, unknown>,
      consents: plain(consents) as unknown[],
      wellness_snapshots: plain(snapshots) as unknown[],
      wellness_daily_scores: plain(dailyScores) as unknown[],
      savings_goals: plain(goals) as unknown[],
      debts: plain(debts) as unknown[],
      debt_payments: plain(payments) as unknown[],
      expenses: plain(expenses) as unknown[],
      income_streams: plain(incomes) as unknown[],
      coach_sessions: plain(sessions) as unknown[],
      alerts: plain(alerts) as unknown[],
      partner_ids: partnerIds,
      cohort_tags: plain(cohortTags) as unknown[],
      audit_events: plain(auditEvents) as unknown[],
    };
  }

  /** Erases `userId` in one transaction. NOT_FOUND for a person not stored (or already erased). */
  async erase(userId: string, requester: Requester): Promise<ErasureReport> {
    const report = await this.prisma.$transaction(
      async (tx) => {
        const person = await tx.user.findUnique({ where: { id: userId }, select: { id: true, country: true } });
        if (!person) throw new AuthError("NOT_FOUND", `No person ${userId} is stored`);
        const deleted = await this.countRows(tx, userId);

        // Consents end first, as a revocation would: status and history, refresh tokens, and a
        // notice that closes open subscriptions on every gateway when this commits. Deleting the
        // rows then ends every token bound to them (each hop checks the consent).
        const consents = await tx.consent.findMany({ where: { userId }, select: { id: true, status: true } });
        const open = consents.filter((consent) => (OPEN_CONSENTS as readonly string[]).includes(consent.status)).map((consent) => consent.id);
        const now = new Date();
        if (open.length > 0) {
          await tx.consent.updateMany({ where: { id: { in: open } }, data: { status: "REVOKED", revokedAt: now, revocationReason: "erased at the person's request" } });
          await tx.refreshToken.updateMany({ where: { consentId: { in: open }, revokedAt: null }, data: { revokedAt: now } });
        }
        await announceRevocation(tx, { consentIds: consents.map((consent) => consent.id) });

        // Events about the person keep their place in the outbox (subscribers resume by position)
        // but not their content; webhooks not yet delivered are not sent.
        const emptied = await tx.$queryRaw<{ id: bigint }[]>`
          UPDATE outbox_event SET payload = ${ERASED_PAYLOAD}::jsonb WHERE payload ->> 'user_id' = ${userId} RETURNING id`;
        if (emptied.length > 0) {
          deleted.webhook_deliveries = await tx.webhookDelivery.count({ where: { eventId: { in: emptied.map((row) => row.id) }, status: { in: ["PENDING", "FAILED"] } } });
          await tx.webhookDelivery.deleteMany({ where: { eventId: { in: emptied.map((row) => row.id) }, status: { in: ["PENDING", "FAILED"] } } });
        }

        await tx.consent.deleteMany({ where: { userId } });
        // Every other table of the person's goes with the person (ON DELETE CASCADE).
        await tx.user.delete({ where: { id: userId } });

        const receipt = await tx.auditEvent.create({
          data: {
            action: ERASE_ACTION,
            userId,
            country: person.country,
            scopes: [],
            fields: [],
            detail: { ...requesterDetail(requester), deleted, revoked_consents: open, emptied_events: emptied.length },
          },
          select: { id: true, at: true, subjectDigest: true, subjectSalt: true },
        });
        // The audit log keeps its rows about the person, this receipt too, without the person's id:
        // the guard trigger allows exactly this change, in a transaction that names the person.
        await tx.$executeRaw`SELECT set_config('kamina.audit_erasure', ${userId}, true)`;
        const pseudonymised = await tx.$executeRaw`UPDATE audit_event SET user_id = NULL, subject_salt = NULL WHERE user_id = ${userId}`;
        await tx.$executeRaw`SELECT set_config('kamina.audit_erasure', '', true)`;
        return {
          receipt_id: receipt.id.toString(),
          erased_at: receipt.at.toISOString(),
          deleted,
          revoked_consents: open,
          pseudonymised_audit_events: pseudonymised - 1,
          emptied_events: emptied.length,
          subject_digest: receipt.subjectDigest!,
          subject_salt: receipt.subjectSalt!,
        };
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
    this.logger.info(
      { action: ERASE_ACTION, receiptId: report.receipt_id, requestedBy: requester.kind, deleted: report.deleted, pseudonymised: report.pseudonymised_audit_events },
      "data-subject erasure",
    );
    return report;
  }

  private async countRows(tx: Prisma.TransactionClient, userId: string): Promise<Record<string, number>> {
    const where = { userId };
    const [consents, snapshots, dailyScores, goals, debts, payments, expenses, incomes, sessions, transcripts, alerts, partnerIds, cohortTags] = await Promise.all([
      tx.consent.count({ where }),
      tx.wellnessSnapshot.count({ where }),
      tx.wellnessDaily.count({ where }),
      tx.savingsGoal.count({ where }),
      tx.debt.count({ where }),
      tx.debtPayment.count({ where }),
      tx.expense.count({ where }),
      tx.incomeStream.count({ where }),
      tx.coachSession.count({ where }),
      tx.coachTranscript.count({ where: { session: { userId } } }),
      tx.alert.count({ where }),
      tx.partnerPersonId.count({ where }),
      tx.cohortMembership.count({ where }),
    ]);
    return {
      app_user: 1,
      consents,
      wellness_snapshots: snapshots,
      wellness_daily_scores: dailyScores,
      savings_goals: goals,
      debts,
      debt_payments: payments,
      expenses,
      income_streams: incomes,
      coach_sessions: sessions,
      coach_transcripts: transcripts,
      alerts,
      partner_person_ids: partnerIds,
      cohort_tags: cohortTags,
    };
  }
}
