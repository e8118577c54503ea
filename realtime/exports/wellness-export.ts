import type { Environment, PairwiseIds } from "../../platform/auth/pairwise-ids.ts";
import { Readable, Transform } from "node:stream";
import { stringify } from "csv-stringify";
import type { Country } from "../../generated/prisma/enums.ts";
import { inFileOrder } from "../../domain/cohorts/cohorts.ts";
import { RECEIPT_ACTION } from "../../platform/audit/audit-chain.ts";
import { activeConsentOf } from "../../platform/auth/consent-grants.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import type { PartnerIds, PartnerRef } from "../../platform/partner-ids/partner-ids.ts";
import { PRODUCTS } from "../../platform/metering/usage-counter.ts";
import type { ExportFormat } from "./export-jobs.ts";

/**
 * The columns of a wellness export, in file order. `user_id` and `country` are in every row;
 * the others only where the person's own consent (and the token that asked) grants their scope,
 * and empty (CSV) or null (JSON Lines) where it does not.
 */
export const WELLNESS_EXPORT_COLUMNS = [
  "user_id",
  // The exporting client's own ids for the person (issue 21, item 1), empty until the person links them.
  "customer_id",
  "bureau_id",
  "country",
  "wellness_score",
  "wellness_band",
  "wellness_trend_30d",
  "wellness_next_review_at",
  "debt_open_count",
  "debt_total_balance",
  "debt_currency",
  "cohort_tags",
] as const;

export type WellnessExportRow = Record<(typeof WELLNESS_EXPORT_COLUMNS)[number], string | number | null>;

/** The field coordinates of the GraphQL receipts (gateway/scopes/receipts.ts): one audit trail. */
const WELLNESS_FIELD = "User.wellness";
const DEBTS_FIELD = "User.debtSummary";
const COHORTS_FIELD = "User.cohorts";

export interface WellnessExportJob {
  id: string;
  clientId: string;
  countries: readonly Country[];
  /** The user scopes of the token that asked; each person's consent narrows them. */
  scopes: readonly string[];
  /** The client's environment: with the client, which pairwise id each row's `user_id` is. */
  environment: Environment;
  /** Only the people who carry this cohort tag and whose consent grants cohorts.read (the CRM's filter). */
  cohort?: string | null;
}

interface BatchRow {
  userId: string;
  country: string;
  wellnessConsent: string | null;
  debtsConsent: string | null;
  cohortsConsent: string | null;
  tags: string[] | null;
  score: number | null;
  band: string | null;
  trend30d: number | null;
  nextReviewAt: string | null;
  openCount: number | null;
  balances: string[] | null;
  currencies: string[] | null;
}

/**
 * Every person with an active consent for the client, a keyset batch at a time (ordered by
 * user id, on the consent index (client_id, status, user_id)), each with only what their
 * consent grants: the newest consent that covers a scope is the one read under, as on /graphql.
 * Before a batch's rows are handed on, one statement writes its consent receipts (one per
 * consent, with the fields read under it), so no row leaves without its receipt.
 */
export async function* wellnessExportRows(prisma: PrismaClient, people: PairwiseIds, partnerIds: PartnerIds, job: WellnessExportJob, options: { batchSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<WellnessExportRow> {
  const batchSize = options.batchSize ?? 1000;
  const wellness = job.scopes.includes("wellness.read");
  const debts = job.scopes.includes("debts.read");
  const cohorts = job.scopes.includes("cohorts.read");
  const cohort = job.cohort ?? null;
  const client = { clientId: job.clientId, countries: job.countries };
  let after = "";
  for (;;) {
    options.signal?.throwIfAborted();
    const rows = await prisma.$queryRaw<BatchRow[]>`
      WITH people AS (
        SELECT c.user_id, min(c.country::text) AS country,
               (array_agg(c.id ORDER BY c.authorised_at DESC NULLS LAST, c.id) FILTER (WHERE ${wellness}::boolean AND 'wellness.read' = ANY(c.scopes)))[1] AS wellness_consent,
               (array_agg(c.id ORDER BY c.authorised_at DESC NULLS LAST, c.id) FILTER (WHERE ${debts}::boolean AND 'debts.read' = ANY(c.scopes)))[1] AS debts_consent,
               (array_agg(c.id ORDER BY c.authorised_at DESC NULLS LAST, c.id) FILTER (WHERE ${cohorts}::boolean AND 'cohorts.read' = ANY(c.scopes)))[1] AS cohorts_consent
        FROM consent c
        WHERE ${activeConsentOf(client)} AND c.user_id > ${after}
          AND (${cohort}::text IS NULL OR EXISTS (SELECT 1 FROM cohort_tag t WHERE t.user_id = c.user_id AND t.country = c.country AND t.tag = ${cohort}::text))
        GROUP BY c.user_id
        HAVING ${cohort}::text IS NULL OR bool_or(${cohorts}::boolean AND 'cohorts.read' = ANY(c.scopes))
        ORDER BY c.user_id
        LIMIT ${batchSize}
      )
      SELECT p.user_id AS "userId", p.country, p.wellness_consent AS "wellnessConsent", p.debts_consent AS "debtsConsent",
             p.cohorts_consent AS "cohortsConsent", CASE WHEN p.cohorts_consent IS NULL THEN NULL ELSE COALESCE(t.tags, '{}') END AS tags,
             w.score, w.band::text AS band, w.trend_30d AS "trend30d", to_char(w.next_review_at, 'YYYY-MM-DD') AS "nextReviewAt",
             CASE WHEN p.debts_consent IS NULL THEN NULL ELSE COALESCE(d.open_count, 0) END AS "openCount", d.balances, d.currencies
      FROM people p
      LEFT JOIN LATERAL (
        SELECT s.score, s.band, s.trend_30d, s.next_review_at FROM wellness_snapshot s
        WHERE p.wellness_consent IS NOT NULL AND s.user_id = p.user_id AND s.country::text = p.country
        ORDER BY s.snapshot_date DESC LIMIT 1
      ) w ON true
      LEFT JOIN LATERAL (
        SELECT sum(t.open_count)::int AS open_count, array_agg(t.balance::text ORDER BY t.currency) AS balances, array_agg(t.currency::text ORDER BY t.currency) AS currencies
        FROM (SELECT d.currency, sum(d.balance) AS balance, count(*) AS open_count FROM debt d
              WHERE p.debts_consent IS NOT NULL AND d.user_id = p.user_id AND d.country::text = p.country AND d.status <> 'PAID_OFF'
              GROUP BY d.currency) t
      ) d ON true
      LEFT JOIN LATERAL (
        SELECT array_agg(t.tag) AS tags FROM cohort_tag t
        WHERE p.cohorts_consent IS NOT NULL AND t.user_id = p.user_id AND t.country::text = p.country
      ) t ON true
      ORDER BY p.user_id`;
    if (rows.length === 0) return;
    await writeReceipts(prisma, job, rows);
    const refs = await partnerIds.refsFor(job.clientId, rows.map((row) => row.userId));
    for (const row of rows) yield toExportRow(row, people.external(job.clientId, job.environment, row.userId), refs.get(row.userId));
    if (rows.length < batchSize) return;
    after = rows.at(-1)!.userId;
  }
}

function toExportRow(row: BatchRow, userId: string, ref: PartnerRef | undefined): WellnessExportRow {
  return {
    user_id: userId,
    customer_id: ref?.customerId ?? null,
    bureau_id: ref?.bureauId ?? null,
    country: row.country,
    wellness_score: row.score,
    wellness_band: row.band?.toLowerCase() ?? null,
    wellness_trend_30d: row.trend30d,
    wellness_next_review_at: row.nextReviewAt,
    debt_open_count: row.openCount,
    // A person's open debts in several currencies: one total per currency, `;`-separated in both columns.
    debt_total_balance: row.balances?.join(";") ?? null,
    debt_currency: row.currencies?.join(";") ?? null,
    // In docs/cohorts.md's order, `;`-separated; empty when the person carries none.
    cohort_tags: row.tags ? inFileOrder(row.tags.map((tag) => ({ tag }))).map((t) => t.tag).join(";") : null,
  };
}

/**
 * One receipt per consent read under in this batch. Each person is in one batch only, so a job
 * writes at most one receipt per consent. The person, country and scopes come from the consent
 * row, joined on the client, as the gateway's receipts do. The same statement counts the batch's
 * rows as billable (metering: `export_row`), so the rows billed are those whose receipts were written.
 */
async function writeReceipts(prisma: PrismaClient, job: WellnessExportJob, rows: readonly BatchRow[]): Promise<void> {
  const byConsent = new Map<string, Set<string>>();
  const add = (consentId: string, field: string) => {
    const fields = byConsent.get(consentId);
    if (fields) fields.add(field);
    else byConsent.set(consentId, new Set([field]));
  };
  for (const row of rows) {
    if (row.wellnessConsent && row.score !== null) add(row.wellnessConsent, WELLNESS_FIELD);
    if (row.debtsConsent) add(row.debtsConsent, DEBTS_FIELD);
    if (row.cohortsConsent) add(row.cohortsConsent, COHORTS_FIELD);
  }
  const consentIds = [...byConsent.keys()];
  const fields = consentIds.map((id) => JSON.stringify([...byConsent.get(id)!].sort()));
  const detail = JSON.stringify({ tokenUse: "client", export: job.id });
  await prisma.$executeRaw`
    WITH billed AS (
      INSERT INTO usage_counter (client_id, product, day, count)
      VALUES (${job.clientId}, ${PRODUCTS.exportRow}, (now() AT TIME ZONE 'UTC')::date, ${rows.length})
      ON CONFLICT (client_id, product, day) DO UPDATE SET count = usage_counter.count + EXCLUDED.count
    )
    INSERT INTO audit_event (action, request_id, client_id, user_id, consent_id, country, scopes, fields, detail)
    SELECT ${RECEIPT_ACTION}, ${job.id}, c.client_id, c.user_id, c.id, c.country, c.scopes,
           ARRAY(SELECT jsonb_array_elements_text(r.fields)), ${detail}::jsonb
    FROM unnest(${consentIds}::text[], ${fields}::jsonb[]) AS r(consent_id, fields)
    JOIN consent c ON c.id = r.consent_id AND c.client_id = ${job.clientId}`;
}

/** The rows as a file's bytes: CSV with a header line, or JSON Lines (one object per line). */
export function exportFile(rows: AsyncIterable<WellnessExportRow>, format: ExportFormat): Readable {
  const source = Readable.from(rows);
  const file =
    format === "csv"
      ? stringify({ header: true, columns: [...WELLNESS_EXPORT_COLUMNS] })
      : new Transform({
          writableObjectMode: true,
          transform(row: WellnessExportRow, _encoding, done) {
            done(null, `${JSON.stringify(row)}\n`);
          },
        });
  // pipe() does not carry a failed read (the database) to the file: the file must fail with it.
  source.once("error", (error) => file.destroy(error));
  return source.pipe(file);
}

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: "text/csv; charset=utf-8",
  jsonl: "application/jsonl; charset=utf-8",
};
