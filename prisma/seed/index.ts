// Deterministic synthetic data for kamina-graph: the brief's demo client and user plus N
// generated households across the five tenants.
//
// Users are generated and written in batches inside one transaction, each table of a batch
// with a single COPY, while the next batch is generated: memory stays flat in N, and a
// failed run leaves nothing behind. The same options give the same data, byte for byte
// (every date derives from `now` rounded down to the UTC day; bigserial ids are assigned
// here, not by sequences).
import type { DatabaseTarget } from "../../platform/database/database.ts";
import { LOCAL_KEY_ENCRYPTION_KEY } from "../../platform/config/secret-policy.ts";
import { type SeedDataKeys, seedDataKeys } from "./data-keys.ts";
import { beginBulkLoad } from "./bulk-load.ts";
import { type CopyBatch, quoteIdentifier, TableWriter } from "./bulk-writer.ts";
import { DAY_MS, type Day, dayOf, dayStartMs, isoDay } from "./calendar.ts";
import { generateDemoHousehold } from "./demo-user.ts";
import { generateHousehold, populationContext } from "./population.ts";
import { CONSENT_TEXT_PUBLISHED_AT, CONSENT_TEXT_VERSION, consentTextSha256, demoClient, liveClient, LOCAL_LIVE_CLIENT_SECRET } from "./reference-data.ts";
import { inTransaction, type SqlSession } from "./session.ts";
import { consentTextTable, householdWriters, partnerClientTable } from "./tables.ts";

export interface SeedOptions {
  /** Users to create, the demo user USR_42891 included (0 seeds only the reference data). */
  users: number;
  seed: number;
  /** The demo client's secret; only its scrypt hash is stored. */
  sandboxClientSecret: string;
  /** The live-flow demo client's (`of_lab_live`); the public local default when absent. */
  liveClientSecret?: string;
  /** Reference time; rounded down to the UTC day. Defaults to today. */
  now?: Date;
  /** Wraps the tenants' data keys that seal coach transcripts (KEY_ENCRYPTION_KEY); the local development key when absent. */
  keyEncryptionKey?: Uint8Array;
  /** Users per generated and written batch. */
  batchSize?: number;
  onProgress?(done: number, total: number): void;
}

export interface SeedReport {
  users: number;
  seed: number;
  /** The UTC day every generated date is relative to, `YYYY-MM-DD`. */
  asOf: string;
  /** Rows inserted per table. */
  counts: Record<string, number>;
  elapsedMs: number;
}

export class SeedRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SeedRefusedError";
  }
}

const DEFAULT_BATCH_SIZE = 1000;
/** Serialises concurrent seeders on the same database. */
const SEED_LOCK_KEY = 0x4b_41_4d_49; // "KAMI"

const EMPTY_CHECK = `SELECT (EXISTS (SELECT 1 FROM "app_user") OR EXISTS (SELECT 1 FROM "partner_client")) AS "populated"`;

/** True when the database has no users and no partner clients: safe to seed. */
export async function isEmpty(target: DatabaseTarget): Promise<boolean> {
  const [state] = await inTransaction(target, (session) => session.query<{ populated: boolean }>(EMPTY_CHECK));
  return state?.populated === false;
}

function validate(options: SeedOptions): void {
  if (!Number.isSafeInteger(options.users) || options.users < 0) {
    throw new RangeError(`users must be a non-negative integer, got ${options.users}`);
  }
  if (!Number.isSafeInteger(options.seed)) throw new RangeError(`seed must be an integer, got ${options.seed}`);
  if (options.sandboxClientSecret.length === 0) throw new RangeError("sandboxClientSecret must not be empty");
  const batch = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new RangeError(`batchSize must be a positive integer, got ${batch}`);
  if (options.now && Number.isNaN(options.now.getTime())) throw new RangeError("now is not a valid date");
}

async function copyAll(session: SqlSession, batches: (CopyBatch | null)[]): Promise<void> {
  for (const batch of batches) if (batch) await session.copy(batch);
}

/**
 * Seeds an empty database. Throws `SeedRefusedError` (and writes nothing) when the
 * database already has users or partner clients.
 */
export async function seedDatabase(target: DatabaseTarget, options: SeedOptions): Promise<SeedReport> {
  validate(options);
  const started = performance.now();
  const today: Day = dayOf(options.now ?? new Date());
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const total = options.users;
  const context = populationContext(options.seed, today);
  // Hash the secret before the transaction opens: scrypt is deliberately slow.
  const client = await demoClient(options.sandboxClientSecret, options.seed, dayStartMs(today) - 30 * DAY_MS);
  const live = await liveClient(options.liveClientSecret || LOCAL_LIVE_CLIENT_SECRET, options.seed, dayStartMs(today) - 30 * DAY_MS);

  const counts: Record<string, number> = {};
  await inTransaction(target, async (session) => {
    await session.execute(`SELECT pg_advisory_xact_lock(${SEED_LOCK_KEY})`);
    const [state] = await session.query<{ populated: boolean }>(EMPTY_CHECK);
    if (state?.populated !== false) {
      throw new SeedRefusedError(
        "refusing to seed: the database already has users or partner clients (seed only an empty database; check isEmpty() first)",
      );
    }

    const clients = new TableWriter(partnerClientTable);
    clients.add(client);
    clients.add(live);
    const texts = new TableWriter(consentTextTable);
    texts.add({ version: CONSENT_TEXT_VERSION, language: "es", sha256: consentTextSha256(), publishedAt: CONSENT_TEXT_PUBLISHED_AT });
    await copyAll(session, [clients.take(), texts.take()]);
    counts[partnerClientTable.table] = 2;
    counts[consentTextTable.table] = 1;

    const dataKeys: SeedDataKeys = await seedDataKeys(session, options.keyEncryptionKey ?? LOCAL_KEY_ENCRYPTION_KEY);
    const { ordered, add } = householdWriters(dataKeys.sealTranscript);
    const bulkLoad = await beginBulkLoad(session, ordered.map((writer) => writer.spec.table));
    let writing: Promise<void> = Promise.resolve();
    for (let start = 0; start < total; start += batchSize) {
      const end = Math.min(total, start + batchSize);
      // Generate this batch while the previous one is still being written.
      for (let index = start; index < end; index++) {
        add(index === 0 ? generateDemoHousehold(context) : generateHousehold(context, index));
      }
      const batches = ordered.map((writer) => writer.take());
      await writing;
      writing = copyAll(session, batches).then(() => options.onProgress?.(end, total));
      // Marks the rejection as handled if generation throws before it is awaited.
      writing.catch(() => undefined);
    }
    await writing;
    await bulkLoad.finish();
    for (const writer of ordered) {
      // Ids were assigned here; move the bigserial past them.
      if (writer.spec.serialId && writer.lastId > 0) {
        await session.execute(`SELECT setval(pg_get_serial_sequence($1, 'id'), $2::bigint)`, [
          quoteIdentifier(writer.spec.table),
          String(writer.lastId),
        ]);
      }
    }
    // Fresh statistics, so the first queries after seeding are planned for the real sizes.
    const tables = [partnerClientTable, consentTextTable, ...ordered.map((writer) => writer.spec)];
    await session.execute(`ANALYZE ${tables.map((table) => quoteIdentifier(table.table)).join(", ")}`);
    for (const writer of ordered) counts[writer.spec.table] = writer.written;
  });
  return {
    users: total,
    seed: options.seed,
    asOf: isoDay(today),
    counts,
    elapsedMs: Math.round(performance.now() - started),
  };
}

export { CONSENT_TEXT_VERSION, DEMO_CLIENT_ID } from "./reference-data.ts";
export { DEMO_USER_ID } from "./demo-user.ts";
