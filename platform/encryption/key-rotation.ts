// Key rotation without downtime (npm run keys:rotate):
// - re-wrap: every data key wrapped by an older KEK is unwrapped (that KEK still configured as
//   KEY_ENCRYPTION_KEY_PREVIOUS) and wrapped again under the current one, one row at a time.
//   The data keys themselves do not change, so no stored value changes and readers never wait.
// - new data keys: each tenant gets a fresh active key; the retired one keeps opening what it
//   sealed, so instances still sealing with it (for up to the ring's TTL) lose nothing.
// - re-encrypt: rows sealed with a retired key (or still plaintext from before encryption) are
//   sealed again with the active key in batches, each row updated only if unchanged meanwhile.
import type { Country } from "../../generated/prisma/enums.ts";
import { type DataKeyRing, type DataKeyTable, newDataKey, type SqlQuery, wrapContext } from "./data-keys.ts";
import type { EncryptedColumn, KekSealedColumn } from "./encrypted-columns.ts";
import type { KekJwe } from "./kek-jwe.ts";
import type { FieldVault } from "./field-vault.ts";
import type { KeyEncryptionKeyProvider } from "./key-encryption-key.ts";

export interface RewrapReport {
  rewrapped: number;
  alreadyCurrent: number;
}

export async function rewrapDataKeys(table: DataKeyTable, provider: KeyEncryptionKeyProvider): Promise<RewrapReport> {
  const report: RewrapReport = { rewrapped: 0, alreadyCurrent: 0 };
  for (const row of await table.all()) {
    if (row.kekId === provider.currentKeyId) {
      report.alreadyCurrent++;
      continue;
    }
    const context = wrapContext(row.id, row.country);
    const key = await provider.unwrap(row.wrappedKey, row.kekId, context);
    const { kekId, wrapped } = await provider.wrap(key, context);
    if (await table.rewrap(row.id, row.kekId, { kekId, wrappedKey: wrapped })) report.rewrapped++;
    else report.alreadyCurrent++; // another run re-wrapped it first
  }
  return report;
}

/**
 * Seals again under the current KEK every value of `column` sealed under a previous one (still
 * configured as KEY_ENCRYPTION_KEY_PREVIOUS). Each row is updated only if unchanged meanwhile: a
 * value replaced since it was read (a rotated webhook secret) was sealed under the current KEK.
 */
export async function resealKekColumn(query: SqlQuery, jwe: KekJwe, column: KekSealedColumn): Promise<RewrapReport> {
  const report: RewrapReport = { rewrapped: 0, alreadyCurrent: 0 };
  const rows = await query<{ id: string; value: string }>(`SELECT ${column.idColumn} AS id, ${column.valueColumn} AS value FROM ${column.table}`, []);
  for (const row of rows) {
    const resealed = await jwe.resealed(row.value);
    const updated = resealed === null ? [] : await query(`UPDATE ${column.table} SET ${column.valueColumn} = $1 WHERE ${column.idColumn} = $2 AND ${column.valueColumn} = $3 RETURNING 1`, [resealed, row.id, row.value]);
    if (updated.length > 0) report.rewrapped++;
    else report.alreadyCurrent++;
  }
  return report;
}

/** Runs `work` in one transaction (Prisma's interactive transaction, pg BEGIN/COMMIT, ...). */
export type InTransaction = <T>(work: (query: SqlQuery) => Promise<T>) => Promise<T>;

/** Retires each tenant's active key and creates its successor in one transaction; returns the new ids. */
export async function rotateDataKeys(transaction: InTransaction, provider: KeyEncryptionKeyProvider, countries: readonly Country[]): Promise<Record<string, string>> {
  const created: Record<string, string> = {};
  await transaction(async (query) => {
    for (const country of countries) {
      const { row } = await newDataKey(country, provider);
      await query(`UPDATE data_key SET retired_at = now() WHERE country = $1::"Country" AND retired_at IS NULL`, [country]);
      await query(`INSERT INTO data_key (id, country, kek_id, wrapped_key) VALUES ($1, $2::"Country", $3, $4)`, [row.id, row.country, row.kekId, row.wrappedKey]);
      created[country] = row.id;
    }
  });
  return created;
}

export interface ReencryptReport {
  table: string;
  /** Rows sealed again with their tenant's active key. */
  resealed: number;
  /** Of those, rows that were still plaintext (written before the column was encrypted). */
  wasPlaintext: number;
  batches: number;
}

interface StaleRow {
  id: string;
  country: Country;
  value: string;
  keyId: string | null;
}

const quote = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`;

/**
 * Seals again, `batchSize` rows at a time, every value of `column` not under its tenant's active
 * key. Each update names the old value: a row rewritten meanwhile is left to the next pass.
 */
export async function reencryptColumn(
  query: SqlQuery,
  ring: DataKeyRing,
  vault: FieldVault,
  column: EncryptedColumn,
  options: { batchSize: number; onBatch?: (report: ReencryptReport) => void },
): Promise<ReencryptReport> {
  const report: ReencryptReport = { table: column.table, resealed: 0, wasPlaintext: 0, batches: 0 };
  const [table, id, country, value, key] = [column.table, column.idColumn, column.countryColumn, column.valueColumn, column.keyColumn].map(quote);
  const active = new Map<Country, string>();
  for (const tenant of (await query<{ country: Country }>(`SELECT DISTINCT ${country}::text AS country FROM ${table}`, [])).map((row) => row.country)) {
    active.set(tenant, (await ring.active(tenant)).id);
  }
  let after = "";
  for (;;) {
    const rows = await query<StaleRow>(
      `SELECT ${id} AS id, ${country}::text AS country, ${value} AS value, ${key} AS "keyId" FROM ${table}
        WHERE ${id} > $1 AND (${key} IS NULL OR ${key} <> ALL($2::text[])) ORDER BY ${id} LIMIT $3`,
      [after, [...active.values()], options.batchSize],
    );
    if (rows.length === 0) return report;
    for (const row of rows) {
      const context = column.context(row.id);
      const plaintext = row.keyId === null ? row.value : await vault.decrypt(row.country, row.value, context);
      const sealed = await vault.encrypt(row.country, plaintext, context);
      const updated = await query<{ id: string }>(
        `UPDATE ${table} SET ${value} = $1, ${key} = $2 WHERE ${id} = $3 AND ${value} = $4 RETURNING ${id} AS id`,
        [sealed.sealed, sealed.dataKeyId, row.id, row.value],
      );
      if (updated.length === 1) {
        report.resealed++;
        if (row.keyId === null) report.wasPlaintext++;
      }
    }
    after = (rows[rows.length - 1] as StaleRow).id;
    report.batches++;
    options.onBatch?.(report);
  }
}
