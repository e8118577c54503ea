// How long each class of data is kept, per tenant (country): RETENTION_<CLASS>_DAYS for every
// country, RETENTION_<CLASS>_DAYS_<COUNTRY> for one. The defaults and the reasons for them are in
// docs/compliance/retention.md; the purge that applies them is realtime/retention/retention-purge.ts.
import { z } from "zod";

export const RETENTION_COUNTRIES = ["CL", "CO", "EC", "MX", "PE"] as const;
export type RetentionCountry = (typeof RETENTION_COUNTRIES)[number];

/** The data classes and their default windows, in days. */
export const RETENTION_DEFAULT_DAYS = {
  /** Consent receipts and every other audit event (audit_event), purged oldest first per chain. */
  audit: 1825,
  /** Card and cash transactions (expense). */
  expenses: 730,
  /** Wellness diagnoses (wellness_snapshot); the API serves 12 months of history. */
  diagnoses: 730,
  /** Coach sessions (coach_session), their transcripts with them. */
  coach_sessions: 365,
  /** Raw coach text (coach_transcript), sooner than the session it belongs to. */
  coach_transcripts: 90,
  /** Prevention alerts (alert), with their outbox events and webhook deliveries. */
  alerts: 365,
  /** Published outbox events (outbox_event) and their webhook deliveries, once every consumer has handled them. */
  events: 30,
  /** Export jobs whose file is gone (export_job: EXPIRED or FAILED); the file itself goes at EXPORT_RETENTION_HOURS. */
  exports: 30,
  /** Answers kept under an app write's Idempotency-Key (app_write_request): a retry comes within minutes, not weeks. */
  idempotency_keys: 7,
} as const;

export type RetentionClass = keyof typeof RETENTION_DEFAULT_DAYS;
export const RETENTION_CLASSES = Object.keys(RETENTION_DEFAULT_DAYS) as RetentionClass[];

export interface RetentionConfig {
  /** Days each class is kept, per country; `default` for rows of no country (global audit events, export jobs). */
  days: Record<RetentionClass, Record<RetentionCountry | "default", number>>;
  /** How often the realtime workers run the purge (RETENTION_PURGE_INTERVAL_MS); 0 turns the scheduled purge off. */
  purgeIntervalMs: number;
  /** Rows deleted per statement, so no purge holds locks for long. */
  purgeBatch: number;
}

const days = z.coerce.number().int().min(1).max(36_500);
const envName = (dataClass: RetentionClass) => `RETENTION_${dataClass.toUpperCase()}_DAYS`;

export function retentionConfigSchema() {
  const shape: Record<string, z.ZodType> = {
    RETENTION_PURGE_INTERVAL_MS: z.coerce.number().int().min(0).default(3_600_000),
    RETENTION_PURGE_BATCH: z.coerce.number().int().min(1).max(100_000).default(5000),
  };
  for (const dataClass of RETENTION_CLASSES) {
    shape[envName(dataClass)] = days.default(RETENTION_DEFAULT_DAYS[dataClass]);
    for (const country of RETENTION_COUNTRIES) shape[`${envName(dataClass)}_${country}`] = days.optional();
  }
  return z.object(shape);
}

export function toRetentionConfig(values: Record<string, unknown>): RetentionConfig {
  const perClass = Object.fromEntries(
    RETENTION_CLASSES.map((dataClass) => {
      const fallback = values[envName(dataClass)] as number;
      const countries = Object.fromEntries(RETENTION_COUNTRIES.map((country) => [country, (values[`${envName(dataClass)}_${country}`] as number | undefined) ?? fallback]));
      return [dataClass, { ...countries, default: fallback }];
    }),
  ) as RetentionConfig["days"];
  return { days: perClass, purgeIntervalMs: values.RETENTION_PURGE_INTERVAL_MS as number, purgeBatch: values.RETENTION_PURGE_BATCH as number };
}
