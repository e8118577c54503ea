// Each tenant's data keys: created on first use, unwrapped once per process and cached, one
// active key per country sealing new values while retired ones still open what they sealed.
import { randomBytes } from "node:crypto";
import type { Country } from "../../generated/prisma/enums.ts";
import { LruMap } from "../lru-map.ts";
import { DecryptionError, KEY_BYTES } from "./aes-gcm.ts";
import type { KeyEncryptionKeyProvider } from "./key-encryption-key.ts";

export interface DataKeyRow {
  id: string;
  country: Country;
  kekId: string;
  wrappedKey: string;
  retiredAt: Date | null;
}

/** Runs one SQL statement with $n parameters and returns its rows (Prisma's $queryRawUnsafe, pg, PGlite). */
export type SqlQuery = <T>(text: string, params: unknown[]) => Promise<T[]>;

const COLUMNS = `id, country::text AS country, kek_id AS "kekId", wrapped_key AS "wrappedKey", retired_at AS "retiredAt"`;

/** The data_key table through any driver: the runtime's Prisma client, the seed's session. */
export class DataKeyTable {
  constructor(private readonly query: SqlQuery) {}

  async active(country: Country): Promise<DataKeyRow | undefined> {
    const [row] = await this.query<DataKeyRow>(`SELECT ${COLUMNS} FROM data_key WHERE country = $1::"Country" AND retired_at IS NULL`, [country]);
    return row;
  }

  async byId(id: string): Promise<DataKeyRow | undefined> {
    const [row] = await this.query<DataKeyRow>(`SELECT ${COLUMNS} FROM data_key WHERE id = $1`, [id]);
    return row;
  }

  async all(): Promise<DataKeyRow[]> {
    return this.query<DataKeyRow>(`SELECT ${COLUMNS} FROM data_key ORDER BY country, created_at`, []);
  }

  /** Inserts an active key unless the country has one already (another instance won the race). */
  async insertActive(row: Omit<DataKeyRow, "retiredAt">): Promise<void> {
    await this.query(
      `INSERT INTO data_key (id, country, kek_id, wrapped_key) VALUES ($1, $2::"Country", $3, $4) ON CONFLICT (country) WHERE retired_at IS NULL DO NOTHING RETURNING id`,
      [row.id, row.country, row.kekId, row.wrappedKey],
    );
  }

  /** Replaces a key's wrapping, only if nobody re-wrapped it meanwhile; true when this call did. */
  async rewrap(id: string, fromKekId: string, to: { kekId: string; wrappedKey: string }): Promise<boolean> {
    const rows = await this.query<{ id: string }>(
      `UPDATE data_key SET kek_id = $3, wrapped_key = $4, rewrapped_at = now() WHERE id = $1 AND kek_id = $2 RETURNING id`,
      [id, fromKekId, to.kekId, to.wrappedKey],
    );
    return rows.length === 1;
  }
}

/** What the wrapping binds a data key to: its id and tenant, so a wrapped key cannot be moved to another row. */
export const wrapContext = (id: string, country: Country): string => `data_key|${id}|${country}`;

export interface UnwrappedKey {
  id: string;
  country: Country;
  key: Buffer;
}

/** A fresh data key for `country`, wrapped under the provider's current KEK, ready to insert. */
export async function newDataKey(country: Country, provider: KeyEncryptionKeyProvider): Promise<{ row: Omit<DataKeyRow, "retiredAt">; key: Buffer }> {
  const id = `dk_${country}_${randomBytes(10).toString("hex")}`;
  const key = randomBytes(KEY_BYTES);
  const { kekId, wrapped } = await provider.wrap(key, wrapContext(id, country));
  return { row: { id, country, kekId, wrappedKey: wrapped }, key };
}

export interface DataKeyRingOptions {
  /**
   * How long an instance keeps sealing with the active key it knows. After `keys:rotate --new-data-keys`
   * every instance has moved to the new key within this time (rows sealed meanwhile under the
   * old key still open, and a later `--reencrypt` moves them).
   */
  activeTtlMs?: number;
  now?: () => number;
}

/** Unwrapped keys are few (a handful per tenant over the years); the bound is a safety net. */
const UNWRAPPED_LIMIT = 512;

export class DataKeyRing {
  private unwrapped = new LruMap<string, UnwrappedKey>(UNWRAPPED_LIMIT);
  private readonly activeIds = new Map<Country, { id: string; until: number }>();
  private readonly activeTtlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly table: DataKeyTable,
    private readonly provider: KeyEncryptionKeyProvider,
    options: DataKeyRingOptions = {},
  ) {
    this.activeTtlMs = options.activeTtlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** The key new values of `country` are sealed with, created on the tenant's first write. */
  async active(country: Country): Promise<UnwrappedKey> {
    const known = this.activeIds.get(country);
    if (known && known.until > this.now()) {
      const cached = this.unwrapped.get(known.id);
      if (cached) return cached;
    }
    let row = await this.table.active(country);
    if (!row) {
      const created = await newDataKey(country, this.provider);
      await this.table.insertActive(created.row);
      row = await this.table.active(country);
      if (!row) throw new Error(`no active data key for ${country} after creating one`);
    }
    const key = await this.unwrap(row);
    this.activeIds.set(country, { id: row.id, until: this.now() + this.activeTtlMs });
    return key;
  }

  /** The key `id`, which must belong to `country`: a value cannot be opened as another tenant's. */
  async byId(id: string, country: Country): Promise<UnwrappedKey> {
    const cached = this.unwrapped.get(id);
    const key = cached ?? (await this.loadById(id));
    if (key.country !== country) throw new DecryptionError(`data key ${id} is not ${country}'s`);
    return key;
  }

  /** Forget unwrapped keys (after a rotation in this process). */
  clear(): void {
    this.unwrapped = new LruMap<string, UnwrappedKey>(UNWRAPPED_LIMIT);
    this.activeIds.clear();
  }

  private async loadById(id: string): Promise<UnwrappedKey> {
    const row = await this.table.byId(id);
    if (!row) throw new DecryptionError(`data key ${id} does not exist`);
    return this.unwrap(row);
  }

  private async unwrap(row: DataKeyRow): Promise<UnwrappedKey> {
    const cached = this.unwrapped.get(row.id);
    if (cached) return cached;
    const key = { id: row.id, country: row.country, key: await this.provider.unwrap(row.wrappedKey, row.kekId, wrapContext(row.id, row.country)) };
    this.unwrapped.set(row.id, key);
    return key;
  }
}
