// When PostgreSQL stops taking connections, callers get 503 SERVICE_UNAVAILABLE with a retry
// (REST envelope and GraphQL alike), never a 500; once it is back, the same calls answer again.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import WebSocket from "ws";
import { isDatabaseUnavailable } from "../platform/database/unavailable.ts";
import { sharedPool } from "../platform/database/database.ts";
import { bearer, consentToken } from "../testkit/tokens.ts";
import { postGraphQL } from "./support/kamina.ts";
import { assertEnvelope, rest } from "./support/rest.ts";
import { startSeededKamina, stopSeededKamina, type SeededKamina } from "./support/seeded-kamina.ts";

describe("a database outage", () => {
  let seeded: SeededKamina;
  let admin: pg.Client;
  let name: string;

  before(async () => {
    seeded = await startSeededKamina({ users: 5, seed: 3, poolSize: 2 });
    name = new URL(seeded.database.url).pathname.slice(1);
    admin = new pg.Client({ connectionString: seeded.database.url.replace(/\/[^/]+$/, "/postgres") });
    await admin.connect();
  });

  after(async () => {
    await admin?.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`).catch(() => undefined);
    await admin?.end();
    await stopSeededKamina({ kamina: seeded?.kamina, database: seeded?.database });
  });

  test("answers 503 with retry_after while PostgreSQL refuses connections, and serves again once it takes them", async () => {
    const origin = seeded.kamina.gateway!.origin;
    const token = bearer(await consentToken(seeded.kamina, "USR_42891"));
    const calls = {
      debts: () => rest(origin, "GET", "/v1/debts", { headers: token }),
      graphql: () => postGraphQL(seeded.kamina.graphqlUrl, "{ me { id debts { issuer } } }", {}, token),
    };
    assert.equal((await calls.debts()).status, 200);

    await seeded.sql.end();
    await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name]);

    const debts = await calls.debts();
    assertEnvelope(debts, 503, "SERVICE_UNAVAILABLE", /retry/i);
    assert.equal(debts.body.retry_after, 5);
    assert.equal(debts.headers.get("retry-after"), "5");
    const graph = await calls.graphql();
    assert.equal(graph.status, 503, JSON.stringify(graph.body));
    assert.deepEqual(graph.body.errors?.map((error) => error.extensions?.code), ["SERVICE_UNAVAILABLE"]);
    const socket = await subscriptionRefusal(seeded.kamina.graphqlUrl, token.authorization!);
    assert.equal(socket.code, 1013, `a subscription socket is told to try again later: ${socket.code} ${socket.reason}`);
    assert.doesNotMatch(JSON.stringify([debts.body, graph.body, socket.reason]), /accepting connections|terminating|kamina_test|ECONN/, "no database message reaches a client");

    await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
    assert.equal((await calls.debts()).status, 200);
    assert.equal((await calls.graphql()).body.data?.me.debts.length > 0, true);
  });

  test("a connection the server ends while it is handed out neither stops the process nor reads as a bug", async () => {
    const pool = sharedPool({ kind: "postgres", url: seeded.database.url, poolSize: 1 });
    try {
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      await admin.query("SELECT pg_terminate_backend($1)", [rows[0]!.pid]);
      // The server's goodbye reaches the idle, handed-out connection as an error event: unheard, it would end this process.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const failure = await client.query("SELECT 1").then(() => undefined, (error: unknown) => error);
      client.release(failure instanceof Error ? failure : undefined);
      assert.ok(failure instanceof Error, "a query on the ended connection fails");
      assert.equal(isDatabaseUnavailable(failure), true, `read as an outage: ${failure.message}`);
      assert.equal((await pool.query("SELECT 1 AS one")).rows[0].one, 1, "the pool opens another connection");
    } finally {
      await pool.end();
    }
  });
});

/** Opens a graphql-ws socket with `authorization` in connection_init; resolves with how the gateway closed it. */
function subscriptionRefusal(url: string, authorization: string): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, "ws"), "graphql-transport-ws");
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization } })));
    socket.on("message", (data) => reject(new Error(`admitted while the database is down: ${String(data)}`)));
    socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    socket.on("error", reject);
  });
}
