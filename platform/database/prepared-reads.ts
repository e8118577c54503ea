/**
 * The hot reads (what a page of the graph costs per subgraph, and the gateway's token check) and
 * the one hot write (the gateway's consent receipts, gateway/scopes/receipts.ts) as named
 * prepared statements sent through `pg` on the same pool, and so the same connections with the
 * same session settings, as the Prisma client they are asked through. Prisma keeps the schema,
 * the migrations and the other writes; a raw statement through Prisma costs, per statement, its
 * request pipeline, the query compiler and a mapping of every value (Prisma's packages were about
 * a sixth of the subgraphs' CPU under bench:gateway's distinct-pages load), and its statements are
 * unnamed, so PostgreSQL parses and plans each one again.
 *
 * Rows come back exactly as Prisma's `$queryRaw` gives them (numeric as Decimal, int8 as bigint,
 * `date` and `timestamp` read as UTC, JSON parsed; test/prepared-reads.test.ts compares the two),
 * so a service can switch without its callers noticing. On the embedded PGlite (no pool) the
 * read goes through Prisma as before.
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";

interface AttachedPool {
  pool: pg.Pool;
  onStatement: ((sql: string) => void) | undefined;
}

const pools = new WeakMap<PrismaClient, AttachedPool>();

/** Reads asked through `client` go to `pool` (the pool its own driver adapter uses). */
export function attachPool(client: PrismaClient, pool: pg.Pool, onStatement?: (sql: string) => void): void {
  pools.set(client, { pool, onStatement });
}

/** A row's columns as a LEFT JOIN that matched nothing gives them: every one null. */
export type Nullable<Row> = { [Key in keyof Row]: Row[Key] | null };

/**
 * The rows of one statement, built with `Prisma.sql` exactly as for `$queryRaw`: a read, or a
 * write that answers rows (RETURNING), run on its own outside any transaction as `$queryRaw` is. The
 * statement is prepared once per connection under a name derived from its text; values are
 * always bound parameters, never spliced into the text.
 */
export async function queryRows<Row>(client: PrismaClient, sql: Prisma.Sql): Promise<Row[]> {
  const attached = pools.get(client);
  if (!attached) return client.$queryRaw<Row[]>(sql);
  const text = sql.text;
  attached.onStatement?.(text);
  const result = await attached.pool.query<Row & pg.QueryResultRow>({ name: statementName(text), text, values: sql.values.map(toParameter), types: PRISMA_TYPES });
  return result.rows;
}

const names = new Map<string, string>();

/** One name per statement text (PostgreSQL's limit is 63 bytes). */
function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `kg_${createHash("sha256").update(text).digest("hex").slice(0, 40)}`;
    names.set(text, name);
  }
  return name;
}

/** Values as PostgreSQL reads them: pg would send a Decimal as JSON and cannot send a bigint. */
function toParameter(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Prisma.Decimal.isDecimal(value)) return (value as Prisma.Decimal).toString();
  if (Array.isArray(value)) return value.map(toParameter);
  return value;
}

const { builtins } = pg.types;
const text = (value: string) => value;
const decimal = (value: string) => new Prisma.Decimal(value);
/** `date` has no zone; Prisma reads it as midnight UTC. */
const date = (value: string) => new Date(`${value}T00:00:00.000Z`);
/** `timestamp` (without zone) is stored as UTC by Prisma and read back as UTC. */
const timestamp = (value: string) => new Date(`${value.replace(" ", "T")}Z`);
const arrayOf = (element: (value: string) => unknown) => (value: string) => (pg.types.arrayParser as unknown as { create(source: string, transform: (value: string) => unknown): { parse(): unknown[] } }).create(value, element).parse();

/** Parsers that give what Prisma's raw queries give; every other type keeps pg's parser. */
const PARSERS = new Map<number, (value: string) => unknown>([
  [builtins.NUMERIC, decimal],
  [builtins.INT8, (value) => BigInt(value)],
  [builtins.DATE, date],
  [builtins.TIMESTAMP, timestamp],
  [builtins.MONEY, text],
  [1231, arrayOf(decimal)], // numeric[]
  [1016, arrayOf((value) => BigInt(value))], // int8[]
  [1182, arrayOf(date)], // date[]
  [1115, arrayOf(timestamp)], // timestamp[]
]);

const PRISMA_TYPES = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => PARSERS.get(oid) ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};
