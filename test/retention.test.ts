// Retention as an operator runs it: rows older than their class's window (per country) are
// purged with what derives from them, younger rows stay, a second run purges nothing, and the
// audit log's chain still verifies after its oldest rows are purged.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { verifyAuditChains } from "../platform/audit/audit-chain.ts";
import { loadConfig } from "../platform/config/config.ts";
import { allTenants, createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { createLogger } from "../platform/logger.ts";
import { RetentionPurge, RetentionWorker, RETENTION_PURGE_ACTION } from "../realtime/retention/retention-purge.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";

const run = promisify(execFile);
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);

describe("retention: the scheduled purge", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  // Peru keeps expenses ten years and idempotency keys a month (per-tenant windows); every other window is the default.
  const env = { RETENTION_EXPENSES_DAYS_PE: "3650", RETENTION_IDEMPOTENCY_KEYS_DAYS_PE: "30", LOG_LEVEL: "silent" };
  const purge = () => new RetentionPurge(prisma, loadConfig(env).retention, createLogger("silent")).run();

  before(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 2 }, { access: allTenants("test") });
    await prisma.partnerClient.create({ data: { id: "ret_client", name: "Retention lab", secretHash: "x", countries: ["MX", "PE"], allowedScopes: [], clientScopes: [] } });
    await prisma.user.createMany({ data: [{ id: "USR_RET_MX", country: "MX" }, { id: "USR_RET_PE", country: "PE" }] });
    const expense = (userId: string, country: "MX" | "PE", days: number, merchant: string) => ({
      userId, country, amount: "12.50", currency: "MXN", mcc: "5411", category: "food", merchant, occurredAt: ago(days),
    });
    await prisma.expense.createMany({
      data: [expense("USR_RET_MX", "MX", 800, "old-mx"), expense("USR_RET_MX", "MX", 10, "young-mx"), expense("USR_RET_PE", "PE", 800, "old-pe")],
    });
    const snapshot = (id: string, days: number) => ({
      id, userId: "USR_RET_MX", country: "MX" as const, snapshotDate: ago(days), score: 50, band: "AMBER" as const, trend30d: 0,
      factors: [], actionPlan: [], computedAt: ago(days), nextReviewAt: ago(days - 30),
    });
    await prisma.wellnessSnapshot.createMany({ data: [snapshot("wsn_old", 800), snapshot("wsn_young", 10)] });
    // Daily scores: a year wholly before the diagnoses' 730-day cutoff, the cutoff's year, and the next.
    const cutoffYear = ago(730).getUTCFullYear();
    await prisma.wellnessDaily.createMany({
      data: [cutoffYear - 1, cutoffYear, cutoffYear + 1].map((year) => ({ userId: "USR_RET_MX", country: "MX" as const, year, scores: Array.from({ length: 365 }, () => 50) })),
    });
    const session = (id: string, days: number) => ({
      id, userId: "USR_RET_MX", country: "MX" as const, startedAt: ago(days), endedAt: ago(days), intent: "budgeting", sentiment: "0.100", messageCount: 4,
    });
    await prisma.coachSession.createMany({ data: [session("cs_old", 400), session("cs_mid", 100), session("cs_young", 10)] });
    await prisma.coachTranscript.createMany({
      data: ["cs_old", "cs_mid", "cs_young"].map((sessionId) => ({ sessionId, country: "MX" as const, text: `transcript of ${sessionId}` })),
    });
    // Alerts with their outbox events (positioned) and webhook deliveries; a 40-day-old diagnosis event.
    const alert = (id: string, days: number) => ({
      id, userId: "USR_RET_MX", country: "MX" as const, type: "expense_spike_food", riskBand: "RED" as const, severity: "HIGH" as const,
      contributingFactors: [], suggestedAction: "soft_outreach_v2", createdAt: ago(days),
    });
    await prisma.alert.createMany({ data: [alert("alr_old", 400), alert("alr_young", 10)] });
    await prisma.outboxEvent.createMany({
      data: [
        { topic: "wellness.diagnosed", aggregateId: "wsn_young", country: "MX", payload: { user_id: "USR_RET_MX" }, createdAt: ago(40), position: 1n, publishedAt: ago(40) },
        { topic: "alert.created", aggregateId: "alr_old", country: "MX", payload: { user_id: "USR_RET_MX" }, createdAt: ago(400), position: 2n, publishedAt: ago(400) },
        { topic: "alert.created", aggregateId: "alr_young", country: "MX", payload: { user_id: "USR_RET_MX" }, createdAt: ago(10), position: 3n, publishedAt: ago(10) },
      ],
    });
    const events = await prisma.outboxEvent.findMany({ orderBy: { position: "asc" }, select: { id: true } });
    await prisma.webhookEndpoint.create({ data: { id: "whe_ret", clientId: "ret_client", url: "https://example.com/hook", secretEncrypted: "x", events: ["alert.created"] } });
    await prisma.webhookDelivery.createMany({
      data: events.map((event, i) => ({ id: `whd_ret_${i}`, endpointId: "whe_ret", eventId: event.id, status: "DELIVERED" as const, nextAttemptAt: ago(1) })),
    });
    await prisma.exportJob.createMany({
      data: [
        { id: "exp_old_expired", clientId: "ret_client", format: "csv", scopes: [], status: "EXPIRED", createdAt: ago(40) },
        { id: "exp_old_queued", clientId: "ret_client", format: "csv", scopes: [], status: "QUEUED", createdAt: ago(40) },
        { id: "exp_young_expired", clientId: "ret_client", format: "csv", scopes: [], status: "EXPIRED", createdAt: ago(5) },
      ],
    });
    // Answers kept under app writes' Idempotency-Keys: eight days old and one day old.
    const kept = (userId: string, key: string, days: number) => ({ userId, key, requestHash: "0".repeat(64), status: 201, response: { id: key }, createdAt: ago(days) });
    await prisma.appWriteRequest.createMany({
      data: [kept("USR_RET_MX", "key-old-mx", 8), kept("USR_RET_MX", "key-young-mx", 1), kept("USR_RET_PE", "key-old-pe", 8)],
    });
    // The audit log: six-year-old receipts first in the MX chain, then recent ones.
    const receipt = (days: number, requestId: string) => ({
      at: ago(days), action: "consent.receipt", requestId, clientId: "ret_client", userId: "USR_RET_MX", country: "MX" as const, scopes: ["wellness.read"], fields: ["User.wellness"],
    });
    for (const row of [receipt(2200, "old-1"), receipt(2100, "old-2"), receipt(2000, "old-3"), receipt(3, "young-1"), receipt(1, "young-2")]) {
      await prisma.auditEvent.create({ data: row });
    }
  });

  after(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("rows older than their window go, with what derives from them; younger rows and longer tenants' rows stay", async () => {
    const report = await purge();
    assert.deepEqual(report.purged, {
      audit: { MX: 3 },
      expenses: { MX: 1 },
      diagnoses: { MX: ago(730).toISOString().endsWith("01-01T00:00:00.000Z") ? 2 : 3 },
      coach_sessions: { MX: 1 },
      coach_transcripts: { MX: 1 },
      alerts: { MX: 1 },
      events: { MX: 1 },
      exports: { default: 1 },
      idempotency_keys: { MX: 1 },
    });
    assert.deepEqual(report.derived, { outbox_events: 1, webhook_deliveries: 2 });

    assert.deepEqual((await prisma.expense.findMany({ select: { merchant: true }, orderBy: { merchant: "asc" } })).map((row) => row.merchant), ["old-pe", "young-mx"]);
    assert.deepEqual((await prisma.wellnessSnapshot.findMany({ select: { id: true } })).map((row) => row.id), ["wsn_young"]);
    const cutoffYear = ago(730).getUTCFullYear();
    const daily = await prisma.$queryRaw<{ year: number; older: number | null; younger: number | null }[]>`
      SELECT year, scores[extract(doy FROM ${ago(732)}::date)::int] AS older, scores[extract(doy FROM ${ago(728)}::date)::int] AS younger
      FROM wellness_daily ORDER BY year`;
    assert.deepEqual(daily.map((row) => row.year), [cutoffYear, cutoffYear + 1], "the year before the cutoff's is gone");
    if (ago(732).getUTCFullYear() === cutoffYear && ago(728).getUTCFullYear() === cutoffYear) {
      assert.deepEqual({ older: daily[0]!.older, younger: daily[0]!.younger }, { older: null, younger: 50 }, "days before the cutoff are emptied, later ones kept");
    }
    assert.deepEqual((await prisma.coachSession.findMany({ select: { id: true }, orderBy: { id: "asc" } })).map((row) => row.id), ["cs_mid", "cs_young"]);
    assert.deepEqual((await prisma.coachTranscript.findMany({ select: { sessionId: true } })).map((row) => row.sessionId), ["cs_young"], "the old session's went with it, the 100-day-old one's alone");
    assert.deepEqual((await prisma.alert.findMany({ select: { id: true } })).map((row) => row.id), ["alr_young"]);
    const events = await prisma.outboxEvent.findMany({ select: { aggregateId: true, position: true }, orderBy: { position: "asc" } });
    assert.deepEqual(events, [{ aggregateId: "alr_young", position: 3n }], "the old alert's event and the old diagnosis event are gone; the newest stays");
    assert.equal(await prisma.webhookDelivery.count(), 1);
    assert.deepEqual((await prisma.exportJob.findMany({ select: { id: true }, orderBy: { id: "asc" } })).map((row) => row.id), ["exp_old_queued", "exp_young_expired"]);

    assert.deepEqual((await prisma.appWriteRequest.findMany({ select: { key: true }, orderBy: { key: "asc" } })).map((row) => row.key), ["key-old-pe", "key-young-mx"]);

    const receipts = await prisma.auditEvent.findMany({ where: { action: "consent.receipt" }, select: { requestId: true }, orderBy: { seq: "asc" } });
    assert.deepEqual(receipts.map((row) => row.requestId), ["young-1", "young-2"]);
    const checkpoint = await prisma.auditEvent.findFirstOrThrow({ where: { action: "audit.purge" } });
    assert.equal(checkpoint.chain, "MX");
    assert.equal((checkpoint.detail as { purged_rows: number }).purged_rows, 3);
    const recorded = await prisma.auditEvent.findFirstOrThrow({ where: { action: RETENTION_PURGE_ACTION } });
    assert.equal(recorded.id.toString(), report.eventId);
    assert.equal((recorded.detail as { total: number }).total, report.total);

    const chains = await verifyAuditChains(prisma);
    assert.deepEqual(chains.filter((chain) => chain.broken), [], "the chain verifies from the checkpoint on");
    assert.equal(chains.find((chain) => chain.chain === "MX")!.purgedThrough, "3");
  });

  test("a second run purges nothing and records nothing; so does the operator's command", async () => {
    const events = await prisma.auditEvent.count();
    const report = await purge();
    assert.equal(report.total, 0);
    assert.equal(report.eventId, null);
    assert.equal(await prisma.auditEvent.count(), events);

    const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/retention-purge.ts"], { env: { ...process.env, ...env, DATABASE_URL: database.url } });
    assert.match(stdout, /nothing purged/);
    assert.deepEqual((await verifyAuditChains(prisma)).filter((chain) => chain.broken), []);
  });

  test("the audit log's oldest rows go only through the purge: a checkpoint that names the wrong row is refused", async () => {
    const row = await prisma.auditEvent.findFirstOrThrow({ where: { action: "consent.receipt" }, orderBy: { seq: "asc" } });
    await assert.rejects(
      prisma.auditEvent.create({ data: { action: "audit.purge", country: "MX", scopes: [], fields: [], detail: { purged_through_seq: Number(row.seq), last_purged_hash: "0".repeat(64) } } }),
      /names the last row it purges/,
    );
    await assert.rejects(prisma.auditEvent.deleteMany({ where: { id: row.id } }), /append-only/);
  });

  test("the realtime workers' job runs the purge every interval, one run at a time", async () => {
    let runs = 0;
    const stub = { run: async () => void runs++ } as unknown as RetentionPurge;
    const worker = new RetentionWorker(stub, 20, createLogger("silent"));
    worker.start();
    await new Promise((resolve) => setTimeout(resolve, 110));
    await worker.stop();
    assert.ok(runs >= 3, `${runs} runs`);
    const after = runs;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(runs, after, "stopped");
    assert.equal(loadConfig({}).retention.purgeIntervalMs, 3_600_000, "hourly by default");
    assert.equal(loadConfig({ RETENTION_AUDIT_DAYS: "3000", RETENTION_AUDIT_DAYS_MX: "4000" }).retention.days.audit.MX, 4000);
    assert.equal(loadConfig({ RETENTION_AUDIT_DAYS: "3000" }).retention.days.audit.PE, 3000);
    assert.throws(() => loadConfig({ RETENTION_EXPENSES_DAYS: "0" }), /RETENTION_EXPENSES_DAYS/);
  });
});
