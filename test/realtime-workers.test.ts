// `runtime/start.ts --only realtime`: the outbox relay and the webhook dispatcher in a process of
// their own, for gateways started with REALTIME_WORKERS=false.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, before, test } from "node:test";
import type { PrismaClient } from "../platform/database/database.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { createRealtimeDatabase, PERSON_A, raiseAlert } from "./support/realtime.ts";

const ROOT = new URL("..", import.meta.url);
let database: TestDatabase;
let prisma: PrismaClient;
let child: ChildProcess | undefined;

before(async () => {
  ({ database, prisma } = await createRealtimeDatabase());
});

after(async () => {
  child?.kill("SIGKILL");
  await prisma?.$disconnect();
  await database?.drop();
});

test("the realtime workers alone relay the outbox, and stop cleanly on SIGTERM", async () => {
  const alertId = await raiseAlert(prisma, PERSON_A);
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: "warn", RELAY_POLL_MS: "100" };
  child = spawn(process.execPath, ["--import", "tsx", "runtime/start.ts", "--only", "realtime"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));

  const deadline = Date.now() + 90_000; // a cold tsx start on a loaded machine took 31 s
  let event = await prisma.outboxEvent.findFirstOrThrow({ where: { aggregateId: alertId } });
  while (event.publishedAt === null) {
    assert.ok(Date.now() < deadline, `the outbox row was not published within 90 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    event = await prisma.outboxEvent.findFirstOrThrow({ where: { aggregateId: alertId } });
  }
  assert.ok(event.position !== null, "positioned before it was announced");
  assert.match(output, /realtime workers are running/);
  assert.doesNotMatch(output, /GraphQL at/, "no gateway and no subgraph in this process");

  child.kill("SIGTERM");
  assert.equal(await exited, 0, output);
  child = undefined;
});

test("--only names a piece this launcher knows", async () => {
  const rejected = spawn(process.execPath, ["--import", "tsx", "runtime/start.ts", "--only", "everything"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  rejected.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => rejected.once("exit", resolve));
  assert.equal(code, 2);
  assert.match(output, /--only takes one of: gateway, realtime, wellness/);
});
