// Runs the diagnosis against the database: loads households in batches, diagnoses them, and
// upserts today's snapshot of each (one per user per day; re-running the same day replaces it).
// A diagnosis run for one person (Mutation.runDiagnosis) also writes its `wellness.diagnosed`
// outbox event with the snapshot, which prevention consumes; the nightly batch does not, as the
// nightly prevention run evaluates everyone anyway.
import { createHash } from "node:crypto";
import { Prisma, type PrismaClient } from "../../../generated/prisma/client.ts";
import type { Country } from "../../../generated/prisma/enums.ts";
import { type Day, dateOfDay, dayOf, type Household } from "../../../domain/household/household.ts";
import { keysetRange, loadHouseholds, type LoadOptions } from "../../shared/household/load-households.ts";
import type { ActionStep } from "../../../domain/diagnosis/action-plan.ts";
import { type Diagnosis, diagnose, TREND_DAYS } from "../../../domain/diagnosis/diagnose.ts";
import { PAYMENT_WINDOW_DAYS, SPENDING_WINDOW_DAYS, VOLATILITY_PERIOD_DAYS, VOLATILITY_PERIODS } from "../../../domain/diagnosis/measure.ts";
import type { Band } from "../../../domain/diagnosis/model.ts";
import { WELLNESS_DIAGNOSED_TOPIC, wellnessDiagnosedEvent } from "../../../domain/diagnosis/diagnosis-event.ts";

/** What the diagnosis reads of a household. */
export function diagnosisLoadOptions(today: Day): LoadOptions {
  return {
    expenseDays: Math.max(SPENDING_WINDOW_DAYS, VOLATILITY_PERIODS * VOLATILITY_PERIOD_DAYS),
    paymentDays: PAYMENT_WINDOW_DAYS + 1,
    coachDays: 0,
    referenceDay: today - TREND_DAYS,
  };
}

/** A stored diagnosis, as the wellness subgraph and the REST mirror read it. */
export interface DiagnosisSnapshot {
  userId: string;
  country: Country;
  snapshotDate: Date;
  score: number;
  band: Band;
  trend30d: number;
  factors: { name: string; weight: number; value: number; subScore?: number }[];
  actionPlan: Pick<ActionStep, "code" | "title" | "expectedScoreDelta">[];
  computedAt: Date;
  nextReviewAt: Date;
}

/** Snapshot ids derive from (user, day), so the same diagnosis always has the same id. */
export function snapshotId(userId: string, day: Day): string {
  return `snp_${createHash("sha256").update(`${userId}\u0000${day}`).digest("hex").slice(0, 16)}`;
}

export function toSnapshot(diagnosis: Diagnosis, country: Country, computedAt: Date): DiagnosisSnapshot {
  return {
    userId: diagnosis.userId,
    country,
    snapshotDate: dateOfDay(diagnosis.day),
    score: diagnosis.score,
    band: diagnosis.band,
    trend30d: diagnosis.trend30d,
    factors: diagnosis.factors,
    actionPlan: diagnosis.actionPlan,
    computedAt,
    nextReviewAt: dateOfDay(diagnosis.nextReviewDay),
  };
}

export interface SnapshotWriteOptions {
  /** Write each snapshot's `wellness.diagnosed` outbox event too, in the same statement. */
  announce?: boolean;
}

/** Upserts the snapshots (and their events when `announce`) with one statement. */
export async function writeSnapshots(prisma: PrismaClient, snapshots: readonly DiagnosisSnapshot[], options: SnapshotWriteOptions = {}): Promise<void> {
  if (snapshots.length === 0) return;
  const column = <T>(pick: (snapshot: DiagnosisSnapshot) => T): T[] => snapshots.map(pick);
  const upsert = Prisma.sql`
    INSERT INTO wellness_snapshot (id, user_id, country, snapshot_date, score, band, trend_30d, factors, action_plan, computed_at, next_review_at)
    SELECT id, user_id, country::"Country", snapshot_date, score, band::"WellnessBand", trend_30d, factors, action_plan, computed_at, next_review_at
    FROM unnest(
      ${column((s) => snapshotId(s.userId, dayOf(s.snapshotDate)))}::text[],
      ${column((s) => s.userId)}::text[],
      ${column((s) => s.country)}::text[],
      ${column((s) => s.snapshotDate)}::date[],
      ${column((s) => s.score)}::int[],
      ${column((s) => s.band)}::text[],
      ${column((s) => s.trend30d)}::int[],
      ${column((s) => JSON.stringify(s.factors))}::jsonb[],
      ${column((s) => JSON.stringify(s.actionPlan))}::jsonb[],
      ${column((s) => s.computedAt)}::timestamptz[],
      ${column((s) => s.nextReviewAt)}::date[]
    ) AS t(id, user_id, country, snapshot_date, score, band, trend_30d, factors, action_plan, computed_at, next_review_at)
    ON CONFLICT (user_id, snapshot_date) DO UPDATE SET
      score = EXCLUDED.score, band = EXCLUDED.band, trend_30d = EXCLUDED.trend_30d, factors = EXCLUDED.factors,
      action_plan = EXCLUDED.action_plan, computed_at = EXCLUDED.computed_at, next_review_at = EXCLUDED.next_review_at`;
  if (!options.announce) {
    await prisma.$executeRaw(upsert);
    return;
  }
  await prisma.$executeRaw`
    WITH stored AS (${upsert} RETURNING id, user_id, country)
    INSERT INTO outbox_event (topic, aggregate_id, country, payload, created_at)
    SELECT ${WELLNESS_DIAGNOSED_TOPIC}, stored.id, stored.country, event.payload, event.created_at
    FROM stored JOIN unnest(
      ${column((s) => s.userId)}::text[], ${column((s) => JSON.stringify(wellnessDiagnosedEvent(s)))}::jsonb[], ${column((s) => s.computedAt)}::timestamptz[]
    ) AS event(user_id, payload, created_at) ON event.user_id = stored.user_id`;
}

export interface DiagnosedHousehold {
  household: Household;
  diagnosis: Diagnosis;
  snapshot: DiagnosisSnapshot;
}

/** Diagnoses loaded households as of `now` and stores today's snapshot of each (one statement). */
export async function diagnoseHouseholds(prisma: PrismaClient, households: readonly Household[], now: Date, options: SnapshotWriteOptions = {}): Promise<DiagnosedHousehold[]> {
  const today = dayOf(now);
  const results = households.map((household) => {
    const diagnosis = diagnose(household, today);
    return { household, diagnosis, snapshot: toSnapshot(diagnosis, household.country, now) };
  });
  await writeSnapshots(
    prisma,
    results.map((result) => result.snapshot),
    options,
  );
  return results;
}

/**
 * Loads what the diagnosis reads of a batch of users (eight statements whatever the batch
 * size). `keysetPage`: the ids are a page of all users in id order (see LoadOptions.idRange).
 */
export function loadForDiagnosis(prisma: PrismaClient, userIds: readonly string[], now: Date, options: { keysetPage?: boolean } = {}): Promise<Household[]> {
  const today = dayOf(now);
  return loadHouseholds(prisma, userIds, today, { ...diagnosisLoadOptions(today), ...keysetRange(userIds, options.keysetPage) });
}

/**
 * Diagnoses a batch of users as of `now` and stores today's snapshot of each: eight reads and
 * one write whatever the batch size. Users that do not exist are skipped.
 */
export async function diagnoseUsers(prisma: PrismaClient, userIds: readonly string[], now: Date, options: SnapshotWriteOptions = {}): Promise<DiagnosedHousehold[]> {
  return diagnoseHouseholds(prisma, await loadForDiagnosis(prisma, userIds, now), now, options);
}

/**
 * Diagnoses one user and stores today's snapshot with its `wellness.diagnosed` event (one
 * statement, so both or neither); null when the user does not exist.
 */
export async function diagnoseUser(prisma: PrismaClient, userId: string, now: Date = new Date()): Promise<DiagnosedHousehold | null> {
  const [result] = await diagnoseUsers(prisma, [userId], now, { announce: true });
  return result ?? null;
}

/** The latest stored snapshot of a user, or null before the first diagnosis. */
export async function latestSnapshot(prisma: PrismaClient, userId: string): Promise<DiagnosisSnapshot | null> {
  const [row] = await prisma.$queryRaw<DiagnosisSnapshot[]>(Prisma.sql`
    SELECT user_id AS "userId", country::text AS country, snapshot_date AS "snapshotDate", score, band::text AS band,
           trend_30d AS "trend30d", factors, action_plan AS "actionPlan", computed_at AS "computedAt", next_review_at AS "nextReviewAt"
    FROM wellness_snapshot WHERE user_id = ${userId}
    ORDER BY snapshot_date DESC LIMIT 1`);
  return row ?? null;
}
