// `npm run bench:seed -- [--users N (default 100000)] [--seed S] [--daily-only]`
//
// How long the synthetic population takes to seed into PostgreSQL, 365 daily wellness points per
// person included: creates a throwaway migrated database on the local PostgreSQL (testkit/postgres.ts)
// and seeds it as `npm run seed` does, prints wall time, CPU time of this process (the
// generator; PostgreSQL's own work is in the wall time), rows per table and the size of the
// daily table, then drops the database. `--daily-only` times just what the daily history adds:
// N people's 365 daily points drawn from 13 monthly snapshots each and COPYed into wellness_daily
// (foreign keys off, as the seed's bulk load has them), without the rest of the households.
import { parseArgs } from "node:util";
import { orUsage } from "./support/usage.ts";
import pg from "pg";
import { DAY_MS } from "../prisma/seed/calendar.ts";
import { dailyScores } from "../prisma/seed/daily-history.ts";
import { copyFromStdin } from "../prisma/seed/pg-copy.ts";
import { Rng } from "../prisma/seed/prng.ts";
import type { SnapshotRow } from "../prisma/seed/rows.ts";
import { TableWriter } from "../prisma/seed/bulk-writer.ts";
import { dailyScoresTable } from "../prisma/seed/tables.ts";
import { seedDatabase } from "../prisma/seed/index.ts";
import { createTestDatabase } from "../testkit/postgres.ts";

const USAGE = "usage: npm run bench:seed -- [--users N (default 100000)] [--seed S (default 42)] [--daily-only]";
const { values } = orUsage(USAGE, () => parseArgs({ options: { users: { type: "string" }, seed: { type: "string" }, "daily-only": { type: "boolean" }, help: { type: "boolean" } } }));
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const users = Number(values.users ?? 100_000);
const seed = Number(values.seed ?? 42);
if (!Number.isInteger(users) || users < 1 || !Number.isInteger(seed)) {
  console.error(USAGE);
  process.exit(2);
}

/** The daily rows alone: generated from synthetic monthly snapshots, written in batches of 1,000 people. */
async function dailyOnly(url: string): Promise<void> {
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  await sql.query("SET session_replication_role = replica");
  const today = Math.floor(Date.now() / DAY_MS);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const writer = new TableWriter(dailyScoresTable);
  for (let index = 0; index < users; index++) {
    const rng = new Rng(seed * 1_000_003 + index);
    const snapshots = Array.from({ length: 13 }, (_, i) => {
      const score = rng.int(10, 95);
      return { userId: `USR_${index}`, country: "MX", snapshotDate: today - (12 - i) * 30, score, trend30d: rng.int(-5, 5) } as SnapshotRow;
    });
    for (const row of dailyScores(snapshots, today, rng)) writer.add(row);
    if ((index + 1) % 1000 === 0 || index === users - 1) {
      const batch = writer.take();
      if (batch) await copyFromStdin(sql, `wellness_daily (${batch.columns.join(", ")})`, batch.text);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const { rows } = await sql.query<{ rows: string; size: string }>("SELECT count(*)::text AS rows, pg_size_pretty(pg_total_relation_size('wellness_daily')) AS size FROM wellness_daily");
  await sql.end();
  console.log(`daily history alone: ${users.toLocaleString("en")} people, ${rows[0]?.rows} rows (${rows[0]?.size}) in ${seconds.toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU generating and sending`);
}

const database = await createTestDatabase();
if (values["daily-only"]) {
  try {
    await dailyOnly(database.url);
  } finally {
    await database.drop();
  }
  process.exit(0);
}
try {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const report = await seedDatabase(
    { kind: "postgres", url: database.url },
    { users, seed, sandboxClientSecret: "bench-sandbox-secret", onProgress: (done, total) => process.stderr.write(`\r${done}/${total}`) },
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  process.stderr.write("\n");
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  const { rows } = await sql.query<{ rows: string; size: string }>(
    "SELECT (SELECT count(*) FROM wellness_daily)::text AS rows, pg_size_pretty(pg_total_relation_size('wellness_daily')) AS size",
  );
  await sql.end();
  const total = Object.values(report.counts).reduce((sum, n) => sum + n, 0);
  console.log(`seeded ${users.toLocaleString("en")} people (seed ${seed}, as of ${report.asOf}) in ${seconds.toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU in the generator`);
  console.log(`${total.toLocaleString("en")} rows; wellness_daily: ${rows[0]?.rows} rows (${(users * 365).toLocaleString("en")} daily points), ${rows[0]?.size}`);
  console.log(JSON.stringify(report.counts));
} finally {
  await database.drop();
}
