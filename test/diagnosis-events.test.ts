// A diagnosis announces itself with a `wellness.diagnosed` outbox event, and prevention's outbox
// consumer evaluates the person it names: the diagnosis never calls into the alerts subgraph.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { WELLNESS_DIAGNOSED_TOPIC, wellnessDiagnosedOf } from "../domain/diagnosis/diagnosis-event.ts";
import { loadConfig } from "../platform/config/config.ts";
import { allTenants, createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { createLogger } from "../platform/logger.ts";
import { EventConsumer } from "../realtime/events/event-consumer.ts";
import { PREVENTION_CONSUMER } from "../runtime/prevention-consumer.ts";
import { startRealtimeWorkers } from "../runtime/realtime-workers.ts";
import { diagnoseUser } from "../subgraphs/wellness/diagnosis/service.ts";
import { calmHousehold, debt, insertHousehold } from "../testkit/households.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { bearer, consentToken } from "../testkit/tokens.ts";
import { postGraphQL, startTestKamina } from "./support/kamina.ts";
import { createRealtimeDatabase, PERSON_A, raiseAlert, seedRealtimeWorld } from "./support/realtime.ts";

const logger = createLogger("silent");

/** A calm household with an open payday loan: prevention raises `high_cost_debt` for it, whatever the day. */
const paydayHousehold = (userId: string) => calmHousehold({ userId, debts: [debt(), debt({ type: "PAYDAY", balance: 20_000, apr: 3, minimumPayment: 5_000 })] });

/** Reads until `done` holds (at most 30 s), and returns what it read last. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    assert.ok(Date.now() < deadline, `${what}: still ${JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))} after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const alertTypes = async (prisma: PrismaClient, userId: string) =>
  (await prisma.alert.findMany({ where: { userId }, select: { type: true }, orderBy: { type: "asc" } })).map((alert) => alert.type);

describe("Mutation.runDiagnosis through the gateway", () => {
  const PERSON = "USR_DX_GATEWAY";
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    await insertHousehold(prisma, paydayHousehold(PERSON));
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, { RELAY_POLL_MS: "100" });
  });

  after(async () => {
    await kamina?.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("stores the snapshot with its wellness.diagnosed event, and the outbox consumer raises the alert the household calls for", async () => {
    const token = bearer(await consentToken(kamina, PERSON, ["wellness.read"]));
    const { body } = await postGraphQL(kamina.graphqlUrl, "mutation { runDiagnosis { score } }", {}, token);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));

    const snapshot = await prisma.wellnessSnapshot.findFirstOrThrow({ where: { userId: PERSON } });
    const event = await prisma.outboxEvent.findFirstOrThrow({ where: { topic: WELLNESS_DIAGNOSED_TOPIC, aggregateId: snapshot.id } });
    assert.deepEqual(
      { country: event.country, payload: event.payload },
      {
        country: "EC",
        payload: {
          event: "wellness.diagnosed",
          user_id: PERSON,
          snapshot_date: snapshot.snapshotDate.toISOString().slice(0, 10),
          computed_at: snapshot.computedAt.toISOString(),
        },
      },
    );
    await eventually(() => alertTypes(prisma, PERSON), (types) => types.includes("high_cost_debt"), `${PERSON}'s alerts`);
  });
});

describe("the outbox consumer", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;

  before(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 4 }, { access: allTenants("test") });
    await seedRealtimeWorld(prisma);
  });

  after(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  /** What the relay does: gives the committed outbox rows their positions. */
  const position = () => prisma.$queryRaw`SELECT count(*) FROM relay_outbox(500, NULL)`;
  const head = async () => (await prisma.outboxEvent.aggregate({ _max: { position: true } }))._max.position ?? 0n;
  const positionOf = async (name: string) => (await prisma.eventConsumer.findUniqueOrThrow({ where: { name } })).position;

  test("resumes after a restart where the last run stopped, and hands on only its topic", async () => {
    for (const id of ["USR_DX_R1", "USR_DX_R2", "USR_DX_R3"]) await insertHousehold(prisma, calmHousehold({ userId: id }));
    const runs: string[][] = [];
    const consumer = () => {
      const handled: string[] = [];
      runs.push(handled);
      return new EventConsumer(prisma, logger, {
        name: "test-restart",
        topics: [WELLNESS_DIAGNOSED_TOPIC],
        pollIntervalMs: 50,
        async handle(events) {
          for (const event of events) handled.push(wellnessDiagnosedOf(event)?.user_id ?? `not a diagnosis: ${event.topic}`);
        },
      });
    };

    await diagnoseUser(prisma, "USR_DX_R1");
    await raiseAlert(prisma, PERSON_A);
    await diagnoseUser(prisma, "USR_DX_R2");
    await position();
    const first = consumer();
    await first.start();
    await eventually(async () => [...runs[0]!], (handled) => handled.length >= 2, "the first run");
    await first.stop();
    assert.equal(await positionOf("test-restart"), await head(), "the first run recorded how far it got");

    await diagnoseUser(prisma, "USR_DX_R3");
    await position();
    const second = consumer();
    await second.start();
    await eventually(async () => [...runs[1]!], (handled) => handled.length >= 1, "the second run");
    await second.stop();
    assert.deepEqual(runs, [["USR_DX_R1", "USR_DX_R2"], ["USR_DX_R3"]]);
    assert.equal(await positionOf("test-restart"), await head());
  });

  test("a backlog longer than a batch and a window, among other topics, is handed on in order with none skipped", async () => {
    const people = Array.from({ length: 12 }, (_, i) => `USR_DX_B${String(i).padStart(2, "0")}`);
    for (const id of people) await insertHousehold(prisma, calmHousehold({ userId: id }));
    for (const id of people) {
      await diagnoseUser(prisma, id);
      await raiseAlert(prisma, PERSON_A);
      await raiseAlert(prisma, PERSON_A);
    }
    await position();
    const handled: string[] = [];
    const batches: number[] = [];
    const consumer = new EventConsumer(prisma, logger, {
      name: "test-backlog",
      topics: [WELLNESS_DIAGNOSED_TOPIC],
      batchSize: 4,
      window: 20,
      pollIntervalMs: 50,
      async handle(events) {
        batches.push(events.length);
        for (const event of events) handled.push(wellnessDiagnosedOf(event)?.user_id ?? `not a diagnosis: ${event.topic}`);
      },
    });
    const end = await head();
    await consumer.start();
    await eventually(() => positionOf("test-backlog"), (at) => at >= end, "the backlog consumer's position");
    await consumer.stop();
    // A new consumer starts at the outbox's beginning: the earlier tests' diagnoses come first.
    const diagnosed = await prisma.outboxEvent.findMany({ where: { topic: WELLNESS_DIAGNOSED_TOPIC }, orderBy: { position: "asc" }, select: { payload: true } });
    const expected = diagnosed.map(({ payload }) => (payload as { user_id: string }).user_id);
    assert.deepEqual(expected.slice(-people.length), people);
    assert.deepEqual(handled, expected);
    assert.ok(batches.every((size) => size <= 4), `batches of at most 4: ${batches.join(", ")}`);
  });

  test("two instances of the realtime workers at once evaluate every diagnosed person, none skipped", async () => {
    const people = Array.from({ length: 8 }, (_, i) => `USR_DX_P${i}`);
    for (const id of people) await insertHousehold(prisma, paydayHousehold(id));
    const config = loadConfig({ LOG_LEVEL: "silent", RELAY_POLL_MS: "100", DAILY_BATCH_HOUR: "off" });
    const target = { kind: "postgres", url: database.url, poolSize: 4 } as const;
    const workers = await Promise.all([startRealtimeWorkers(config, target, logger), startRealtimeWorkers(config, target, logger)]);
    try {
      await Promise.all(people.slice(0, 4).map((id) => diagnoseUser(prisma, id)));
      await Promise.all(people.slice(4).map((id) => diagnoseUser(prisma, id)));
      for (const id of people) {
        const types = await eventually(() => alertTypes(prisma, id), (found) => found.includes("high_cost_debt"), `${id}'s alerts`);
        assert.equal(types.filter((type) => type === "high_cost_debt").length, 1, `${id}: raised once`);
      }
      const last = await prisma.outboxEvent.aggregate({ where: { topic: WELLNESS_DIAGNOSED_TOPIC }, _max: { position: true } });
      await eventually(() => positionOf(PREVENTION_CONSUMER), (at) => at >= last._max.position!, "the prevention consumer's position");
    } finally {
      await Promise.all(workers.map((running) => running.stop()));
    }
  });
});
