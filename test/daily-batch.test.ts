// The daily diagnosis and prevention batch without an outside cron: the realtime workers run it
// once its UTC hour has come; two instances racing for it run it once between them; a run
// whose instance died is continued from its last recorded batch by another; before the hour and
// after the day's run nothing happens; progress is in the logs.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../platform/config/config.ts";
import { allTenants, createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { createLogger } from "../platform/logger.ts";
import { seedDatabase } from "../prisma/seed/index.ts";
import { DAILY_BATCH_JOB, DailyBatch } from "../runtime/daily-batch.ts";
import { startRealtimeWorkers } from "../runtime/realtime-workers.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";

const USERS = 30;

/** A logger whose JSON lines the test reads. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger("info", "kamina-graph", sink), lines };
}

describe("the daily batch, scheduled by the workers themselves", () => {
  let database: TestDatabase;
  let prismas: PrismaClient[];
  const snapshotsOn = (day: string) => prismas[0]!.wellnessSnapshot.count({ where: { snapshotDate: new Date(`${day}T00:00:00Z`) } });

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: USERS, seed: 23, sandboxClientSecret: TEST_SANDBOX_SECRET });
    prismas = [0, 1].map((i) => createPrismaClient({ kind: "postgres", url: database.url, poolSize: 2 }, { access: allTenants(`daily-batch-test-${i}`) }));
  });
  after(async () => {
    await Promise.all(prismas.map((prisma) => prisma.$disconnect()));
    await database?.drop();
  });

  test("two instances racing for the day's run: it runs once, every person diagnosed, progress logged", async () => {
    const now = new Date("2027-03-10T09:30:00Z");
    const captured = [capturedLogger(), capturedLogger()];
    const batches = prismas.map((prisma, i) => new DailyBatch(prisma, captured[i]!.logger, { hourUtc: 9, batchSize: 7, checkEveryMs: 60_000 }));
    const reports = await Promise.all(batches.map((batch) => batch.runIfDue(now)));
    const ran = reports.filter((report) => report !== undefined);
    assert.equal(ran.length, 1, "exactly one instance ran it");
    assert.equal(ran[0]!.users, USERS);
    assert.equal(ran[0]!.tookOver, false);
    assert.equal(await snapshotsOn("2027-03-10"), USERS, "today's snapshot for everyone");
    const runs = await prismas[0]!.scheduledRun.findMany({ where: { job: DAILY_BATCH_JOB } });
    assert.equal(runs.length, 1);
    assert.ok(runs[0]!.finishedAt);
    assert.equal(runs[0]!.usersDone, USERS);
    const lines = captured.flatMap((c) => c.lines).filter((line) => line.job === DAILY_BATCH_JOB);
    assert.deepEqual(lines.filter((line) => line.msg === "daily batch: progress").map((line) => line.usersDone), [7, 14, 21, 28, 30]);
    assert.equal(lines.filter((line) => line.msg === "daily batch: done").length, 1);
    // Later the same day, on either instance: nothing more.
    assert.equal(await batches[1]!.runIfDue(new Date("2027-03-10T15:00:00Z")), undefined);
    assert.equal(await batches[0]!.runIfDue(new Date("2027-03-10T23:59:00Z")), undefined);
  });

  test("before its hour nothing runs", async () => {
    const batch = new DailyBatch(prismas[0]!, createLogger("silent"), { hourUtc: 9, batchSize: 7, checkEveryMs: 60_000 });
    assert.equal(await batch.runIfDue(new Date("2027-03-11T08:59:59Z")), undefined);
    assert.equal(await prismas[0]!.scheduledRun.count({ where: { runDate: new Date("2027-03-11T00:00:00Z") } }), 0);
  });

  test("a run left by an instance that died is continued from its last batch once the lease expires", async () => {
    const ids = (await prismas[0]!.user.findMany({ select: { id: true }, orderBy: { id: "asc" } })).map((user) => user.id);
    await prismas[0]!.scheduledRun.create({
      data: { job: DAILY_BATCH_JOB, runDate: new Date("2027-03-12T00:00:00Z"), leaseOwner: "dead-instance", leasedUntil: new Date(Date.now() - 1000), lastUserId: ids[9]!, usersDone: 10 },
    });
    const captured = capturedLogger();
    const report = await new DailyBatch(prismas[1]!, captured.logger, { hourUtc: 0, batchSize: 8, checkEveryMs: 60_000 }).runIfDue(new Date("2027-03-12T01:00:00Z"));
    assert.equal(report?.tookOver, true);
    assert.equal(report?.users, USERS);
    assert.equal(await snapshotsOn("2027-03-12"), USERS - 10, "only the people the dead instance had not reached");
    assert.ok(captured.lines.some((line) => line.msg === "daily batch: continuing a run another instance left"));
    // A live lease is left alone.
    await prismas[0]!.scheduledRun.create({
      data: { job: DAILY_BATCH_JOB, runDate: new Date("2027-03-13T00:00:00Z"), leaseOwner: "busy-instance", leasedUntil: new Date(Date.now() + 60_000) },
    });
    assert.equal(await new DailyBatch(prismas[1]!, createLogger("silent"), { hourUtc: 0, batchSize: 8, checkEveryMs: 60_000 }).runIfDue(new Date("2027-03-13T01:00:00Z")), undefined);
  });

  test("two sets of realtime workers started at the configured hour run today's batch once", async () => {
    const today = new Date().toISOString().slice(0, 10);
    await prismas[0]!.wellnessSnapshot.deleteMany({ where: { snapshotDate: new Date(`${today}T00:00:00Z`) } });
    const config = loadConfig({ LOG_LEVEL: "silent", DAILY_BATCH_HOUR: "0", DAILY_BATCH_SIZE: "9", DAILY_BATCH_CHECK_MS: "100", RELAY_POLL_MS: "100" });
    const target = { kind: "postgres" as const, url: database.url, poolSize: 3 };
    const captured = [capturedLogger(), capturedLogger()];
    const workers = await Promise.all(captured.map((c) => startRealtimeWorkers(config, target, c.logger)));
    try {
      const deadline = Date.now() + 30_000;
      let run;
      while (!(run = await prismas[0]!.scheduledRun.findFirst({ where: { runDate: new Date(`${today}T00:00:00Z`), finishedAt: { not: null } } }))) {
        assert.ok(Date.now() < deadline, "today's run finished");
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(run.usersDone, USERS);
      await new Promise((resolve) => setTimeout(resolve, 500)); // a few more checks by both instances
      const started = captured.flatMap((c) => c.lines).filter((line) => line.msg === "daily batch: started");
      assert.equal(started.length, 1, "one instance started it, the other found it taken or done");
      assert.equal(await snapshotsOn(today), USERS);
    } finally {
      await Promise.all(workers.map((running) => running.stop()));
    }
  });
});
