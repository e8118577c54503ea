// `npm run bench:exports -- [--rows N] [--format csv|jsonl] [--batch N]`
//
// The export of scenario 4 (POST /v1/exports/wellness) at scale: creates a throwaway database on
// the local PostgreSQL (testkit/postgres.ts), writes N people with consents for one partner (a
// fifth of them without wellness.read), a wellness snapshot and two debts each, straight in SQL
// (generate_series: seeding a million people through the synthetic households would take far
// longer than the export), then runs one export job through the export worker as the realtime
// workers run it, and reports rows/s and resident memory: flat memory whatever N is the point.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { orUsage } from "./support/usage.ts";
import pg from "pg";
import { allTenants, createPrismaClient } from "../platform/database/database.ts";
import { createLogger } from "../platform/logger.ts";
import { PairwiseIds } from "../platform/auth/pairwise-ids.ts";
import { partnerIdsOver } from "../platform/partner-ids/partner-ids.ts";
import { loadConfig } from "../platform/config/config.ts";
import { ExportJobs, EXPORT_FORMATS, type ExportFormat } from "../realtime/exports/export-jobs.ts";
import { LocalExportStorage } from "../realtime/exports/export-storage.ts";
import { ExportWorker } from "../realtime/exports/export-worker.ts";
import { createTestDatabase } from "../testkit/postgres.ts";

const USAGE = "usage: npm run bench:exports -- [--rows N (default 100000)] [--format csv|jsonl] [--batch N (default 1000)]";
const CLIENT = "of_bench_crm";

const { values } = orUsage(USAGE, () => parseArgs({ options: { rows: { type: "string" }, format: { type: "string" }, batch: { type: "string" }, help: { type: "boolean" } } }));
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const rows = Number(values.rows ?? 100_000);
const batchSize = Number(values.batch ?? 1000);
const format = (values.format ?? "csv") as ExportFormat;
if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(batchSize) || batchSize < 1 || !EXPORT_FORMATS.includes(format)) {
  console.error(USAGE);
  process.exit(2);
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

async function seed(url: string): Promise<void> {
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  try {
    // No triggers: the consent trigger would move the client's consent version once per row.
    await sql.query("SET session_replication_role = replica");
    await sql.query(`INSERT INTO partner_client (id, name, secret_hash, countries, allowed_scopes, client_scopes)
                     VALUES ('${CLIENT}', 'Bench CRM', 'unused', '{EC,MX,PE,CO,CL}', '{wellness.read,debts.read}', '{exports.create}')`);
    await sql.query(`INSERT INTO consent_text_version (version, sha256, published_at) VALUES ('2026-05-01', 'bench', now())`);
    const country = `(ARRAY['EC','MX','PE','CO','CL'])[i % 5 + 1]::"Country"`;
    const id = `'USR_B' || lpad(i::text, 8, '0')`;
    await sql.query(`INSERT INTO app_user (id, country) SELECT ${id}, ${country} FROM generate_series(1, $1) i`, [rows]);
    await sql.query(
      `INSERT INTO consent (id, client_id, user_id, country, status, scopes, consent_text_version, authorised_at)
       SELECT 'cns_b' || i, '${CLIENT}', ${id}, ${country}, 'AUTHORISED',
              CASE WHEN i % 5 = 0 THEN '{debts.read}'::text[] ELSE '{wellness.read,debts.read}'::text[] END, '2026-05-01', now()
       FROM generate_series(1, $1) i`,
      [rows],
    );
    await sql.query(
      `INSERT INTO wellness_snapshot (id, user_id, country, snapshot_date, score, band, trend_30d, factors, action_plan, computed_at, next_review_at)
       SELECT 'ws_b' || i, ${id}, ${country}, CURRENT_DATE, i % 100, (ARRAY['GREEN','AMBER','RED'])[i % 3 + 1]::"WellnessBand",
              i % 11 - 5, '[]', '[]', now(), CURRENT_DATE + 30
       FROM generate_series(1, $1) i`,
      [rows],
    );
    await sql.query(
      `INSERT INTO debt (id, user_id, country, issuer, type, principal, balance, minimum_payment, currency, apr, due_date, status, opened_at)
       SELECT 'debt_b' || i || '_' || k, ${id}, ${country}, 'Banco Bench', 'CREDIT_CARD', 1000, 100 + i % 900 + k / 100.0, 25, 'USD', 0.42,
              CURRENT_DATE + 20, 'CURRENT', CURRENT_DATE - 400
       FROM generate_series(1, $1) i, generate_series(1, 2) k`,
      [rows],
    );
    await sql.query("ANALYZE");
  } finally {
    await sql.end();
  }
}

const database = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), "kamina-bench-exports-"));
try {
  let mark = performance.now();
  await seed(database.url);
  console.log(`seeded ${rows.toLocaleString("en")} people (consents, snapshots, ${(2 * rows).toLocaleString("en")} debts) in ${((performance.now() - mark) / 1000).toFixed(1)} s`);

  const prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 4 }, { access: allTenants("bench-exports") });
  const storage = new LocalExportStorage(dir);
  const worker = new ExportWorker(prisma, storage, createLogger("silent"), { pollMs: 60_000, retentionMs: 3600_000, batchSize, pairwiseIds: new PairwiseIds(loadConfig({}).tokens.pairwiseIdKey), partnerIds: partnerIdsOver(prisma, loadConfig({}).tokens) });
  const job = await new ExportJobs(prisma).create({ clientId: CLIENT, format, scopes: ["debts.read", "wellness.read"] });

  const before = process.memoryUsage().rss;
  let peak = before;
  // RSS and heap through the run: flat after the first batches is the point.
  const samples: { rss: number; heap: number }[] = [];
  const sampler = setInterval(() => {
    const { rss, heapUsed } = process.memoryUsage();
    peak = Math.max(peak, rss);
    samples.push({ rss, heap: heapUsed });
  }, 20);
  mark = performance.now();
  await worker.runOnce();
  const seconds = (performance.now() - mark) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);

  const done = await prisma.exportJob.findUniqueOrThrow({ where: { id: job.id } });
  if (done.status !== "SUCCEEDED" || done.rows !== rows) throw new Error(`export ended ${done.status} with ${done.rows} rows (${done.error ?? ""})`);
  const receipts = await prisma.auditEvent.count({ where: { requestId: job.id } });
  console.log(
    [
      `export (${format}, batches of ${batchSize}): ${rows.toLocaleString("en")} rows in ${seconds.toFixed(1)} s = ${Math.round(rows / seconds).toLocaleString("en")} rows/s`,
      `file ${mib(Number(done.bytes))} MiB, ${receipts.toLocaleString("en")} consent receipts written`,
      `RSS before ${mib(before)} MiB, peak during the export ${mib(peak)} MiB (+${mib(peak - before)}); process max RSS ${mib(process.resourceUsage().maxRSS * 1024)} MiB`,
      `RSS/heap MiB at 10/25/50/75/100 % of the run: ${[0.1, 0.25, 0.5, 0.75, 1]
        .map((share) => samples[Math.max(0, Math.ceil(samples.length * share) - 1)])
        .map((sample) => (sample ? `${mib(sample.rss)}/${mib(sample.heap)}` : "-"))
        .join(", ")}`,
    ].join("\n"),
  );
  await worker.stop();
  await prisma.$disconnect();
} finally {
  await rm(dir, { recursive: true, force: true });
  await database.drop();
}
