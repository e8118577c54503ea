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
const date = (value: string) => utcDateTime(value, DATE_LENGTH) ?? new Date(`${value}T00:00:00.000Z`);
/** `timestamp` (without zone) is stored as UTC by Prisma and read back as UTC. */
const timestamp = (value: string) => utcDateTime(value, value.length) ?? new Date(`${value.replace(" ", "T")}Z`);
const postgresDate = pg.types.getTypeParser(builtins.TIMESTAMPTZ, "text") as (value: string) => unknown;
/** `timestamptz` in a UTC session ends in "+00"; any other form goes to pg's own parser. */
const timestamptz = (value: string) => (value.endsWith("+00") ? utcDateTime(value, value.length - 3) : undefined) ?? postgresDate(value);
const arrayOf = (element: (value: string) => unknown) => (value: string) => (pg.types.arrayParser as unknown as { create(source: string, transform: (value: string) => unknown): { parse(): unknown[] } }).create(value, element).parse();

/** Parsers that give what Prisma's raw queries give; every other type keeps pg's parser. */
const PARSERS = new Map<number, (value: string) => unknown>([
  [builtins.NUMERIC, decimal],
  [builtins.INT8, (value) => BigInt(value)],
  [builtins.DATE, date],
  [builtins.TIMESTAMP, timestamp],
  [builtins.TIMESTAMPTZ, timestamptz],
  [builtins.MONEY, text],
  [1231, arrayOf(decimal)], // numeric[]
  [1016, arrayOf((value) => BigInt(value))], // int8[]
  [1182, arrayOf(date)], // date[]
  [1115, arrayOf(timestamp)], // timestamp[]
]);

const PRISMA_TYPES = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => PARSERS.get(oid) ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const DATE_LENGTH = "2026-05-08".length;
const TIME_LENGTH = "2026-05-08 19:00:00".length;
const ZERO = 48;

/**
 * The UTC instant PostgreSQL writes as "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS[.fff]" in the first
 * `length` characters of `value`, read digit by digit: every date and timestamp of a page goes
 * through here, and the generic parsers' regular expressions and intermediate strings were a
 * measurable share of the subgraphs' CPU. Undefined for any other form (years before 1000, BC,
 * infinity, sub-millisecond digits), which the callers hand to the generic parser.
 */
function utcDateTime(value: string, length: number): Date | undefined {
  if (length !== DATE_LENGTH && (length < TIME_LENGTH || length > TIME_LENGTH + 4 || length === TIME_LENGTH + 1)) return undefined;
  if (value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return undefined;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  // Written so that NaN (a character that is not a digit) fails every test.
  if (!(year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= 31)) return undefined;
  if (length === DATE_LENGTH) return value.length === DATE_LENGTH ? new Date(Date.UTC(year, month - 1, day)) : undefined;
  if (value.charCodeAt(10) !== 32 || value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58) return undefined;
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (!(hour <= 23 && minute <= 59 && second <= 59)) return undefined;
  let millisecond = 0;
  if (length > TIME_LENGTH) {
    if (value.charCodeAt(TIME_LENGTH) !== 46) return undefined;
    const fraction = length - TIME_LENGTH - 1;
    millisecond = digits(value, TIME_LENGTH + 1, fraction) * (fraction === 1 ? 100 : fraction === 2 ? 10 : 1);
  }
  if (Number.isNaN(millisecond)) return undefined;
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millisecond));
}

/** The decimal number of `count` ASCII digits from `start`; NaN when one is not a digit. */
function digits(value: string, start: number, count: number): number {
  let number = 0;
  for (let index = start; index < start + count; index++) {
    const digit = value.charCodeAt(index) - ZERO;
    if (digit < 0 || digit > 9) return Number.NaN;
    number = number * 10 + digit;
  }
  return number;
}
