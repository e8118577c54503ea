// The counts of concurrent requests in one statement. RateLimiterPostgres sends one
// INSERT ... ON CONFLICT per count, and a /graphql request makes two (its request, its
// operation's cost): under bench:gateway's distinct-pages load those were two of the gateway's
// three statements per request. Here every count asked while the pool's statements are busy
// joins the next statement (platform/database/statement-batcher.ts), whatever its limiter.
//
// Exact as before: each count still waits for the statement that holds it, which starts after
// the count was asked and is one atomic upsert of every key it names, so each caller gets what a
// statement of its own, run at that moment, would have answered (the counts of one key in one
// statement are summed, and each is told the total as it stood after its own count, in the order
// they were asked). Nothing is counted in memory, so two instances share a quota as before.
import type pg from "pg";
import { RateLimiterPostgres } from "rate-limiter-flexible";
import { StatementBatcher } from "../../platform/database/statement-batcher.ts";

/** What RateLimiterPostgres reads from its upsert's answer. */
interface UpsertResult {
  rows: { points: number; expire: string | null }[];
}

interface Count {
  key: string;
  points: number;
  /** The window, for a key the statement starts; 0: none (never expires). */
  msDuration: number;
}

type Upsert = (this: RateLimiterPostgres, key: string, points: number, msDuration: number, forceExpire?: boolean) => Promise<UpsertResult>;

/** Counts against `table` over `pool`, each concurrent batch of them in one statement. */
export class BatchedCounts {
  private readonly batcher: StatementBatcher<Count, UpsertResult>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly table: string,
    /** The statements in flight at once: the pool's size, so a batch never waits for a connection. */
    maxInFlight: number,
  ) {
    this.batcher = new StatementBatcher((counts) => this.upsert(counts), 1000, maxInFlight);
  }

  /** A RateLimiterPostgres whose counts go through this batcher (its blocks, and its reads, as before). */
  limiter(options: ConstructorParameters<typeof RateLimiterPostgres>[0]): RateLimiterPostgres {
    const limiter = new RateLimiterPostgres(options);
    const own = (RateLimiterPostgres.prototype as unknown as { _upsert: Upsert })._upsert;
    const batcher = this.batcher;
    // consume, reward and penalty all count through _upsert; a forced expiry (a block) keeps its own statement.
    (limiter as unknown as { _upsert: Upsert })._upsert = function (key, points, msDuration, forceExpire = false) {
      if (forceExpire) return own.call(this, key, points, msDuration, forceExpire);
      return batcher.add({ key, points, msDuration });
    };
    return limiter;
  }

  private async upsert(counts: readonly Count[]): Promise<UpsertResult[]> {
    // ON CONFLICT may touch a row once per statement: one row per key, its counts summed. Keys in
    // order, so two statements (of two instances) lock the rows they share in the same order.
    const byKey = new Map<string, Count>();
    for (const count of counts) {
      const known = byKey.get(count.key);
      if (known) known.points += count.points;
      else byKey.set(count.key, { ...count });
    }
    const rows = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const now = Date.now();
    const { rows: totals } = await this.pool.query<{ key: string; points: number; expire: string | null }>({
      name: "kg-rate-limit-counts",
      // What RateLimiterPostgres's own upsert does per key: a window that has ended starts again with these points.
      text: `
        INSERT INTO ${this.table} AS r (key, points, expire)
        SELECT c.key, c.points, c.expire FROM unnest($1::text[], $2::int[], $3::int8[]) AS c(key, points, expire) ORDER BY c.key
        ON CONFLICT (key) DO UPDATE SET
          points = CASE WHEN r.expire <= $4 THEN EXCLUDED.points ELSE r.points + EXCLUDED.points END,
          expire = CASE WHEN r.expire <= $4 THEN EXCLUDED.expire ELSE r.expire END
        RETURNING r.key, r.points, r.expire`,
      values: [rows.map((row) => row.key), rows.map((row) => row.points), rows.map((row) => (row.msDuration > 0 ? now + row.msDuration : null)), now],
    });
    const total = new Map(totals.map((row) => [row.key, row]));
    // Each count is told the key's total as it stood after it: the last one the whole total, each earlier one less the counts after it.
    const after = new Map<string, number>();
    const results: UpsertResult[] = new Array(counts.length);
    for (let index = counts.length - 1; index >= 0; index--) {
      const { key, points } = counts[index]!;
      const row = total.get(key);
      if (!row) throw new Error(`the rate-limit count of ${key} was not written`);
      const later = after.get(key) ?? 0;
      results[index] = { rows: [{ points: row.points - later, expire: row.expire }] };
      after.set(key, later + points);
    }
    return results;
  }
}
