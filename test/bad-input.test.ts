import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { seedDatabase } from "../prisma/seed/index.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { bearer, consentToken } from "../testkit/tokens.ts";
import { postGraphQL, startTestKamina } from "./support/kamina.ts";

/** Sends `text` on a raw socket and reads until the server closes it: what a slow client sees. */
function rawExchange(origin: string, text: string): Promise<{ answer: string; ms: number }> {
  const { hostname, port } = new URL(origin);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (answer += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve({ answer, ms: performance.now() - started }));
    setTimeout(() => socket.destroy(), 10_000).unref();
  });
}

const cursor = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString("base64url");

function codes(errors: { extensions?: Record<string, unknown> }[] | undefined): unknown[] {
  return (errors ?? []).map((error) => error.extensions?.code);
}

describe("bad input gets a clear error, never a crash", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let headers: Record<string, string>;

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 30, seed: 3, sandboxClientSecret: "kamina-sandbox-secret" });
    // Short body and header timeouts, so that the slow-client tests take a second, not thirty.
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 2 }, { HTTP_BODY_TIMEOUT_MS: "300", HTTP_HEADERS_TIMEOUT_MS: "500" });
    headers = { "content-type": "application/json", ...bearer(await consentToken(kamina, "USR_42891")) };
  });

  const ask = (query: string, variables?: Record<string, unknown>) => postGraphQL(kamina.graphqlUrl, query, variables, headers);

  after(async () => {
    await kamina?.stop();
    await database?.drop();
  });

  test("an unknown field fails validation with GRAPHQL_VALIDATION_FAILED", async () => {
    const { status, body } = await ask(`{ user(id: "USR_42891") { id nationalId } }`);
    assert.equal(status, 400);
    assert.deepEqual(codes(body.errors), ["GRAPHQL_VALIDATION_FAILED"]);
    assert.match(body.errors![0]!.message, /nationalId/);
  });

  test("a variable of the wrong type is BAD_USER_INPUT", async () => {
    const { status, body } = await ask(`query($first: Int) { users(first: $first) { totalCount } }`, { first: "ten" });
    assert.equal(status, 400);
    assert.deepEqual(codes(body.errors), ["BAD_USER_INPUT"]);
  });

  test("a malformed date variable is BAD_USER_INPUT", async () => {
    const { body } = await ask(`query($from: Date) { user(id: "USR_42891") { expenses(from: $from) { totalCount } } }`, { from: "yesterday" });
    assert.deepEqual(codes(body.errors), ["BAD_USER_INPUT"]);
  });

  test("`first` beyond its cap, a negative `first`, and a forged cursor are BAD_USER_INPUT", async () => {
    for (const variables of [{ first: 1000 }, { first: -1 }, { first: 5, after: "bm90LWEtY3Vyc29y" }, { first: 5, after: "%%%" }]) {
      const { status, body } = await ask(`query($first: Int, $after: String) { users(first: $first, after: $after) { totalCount } }`, variables);
      assert.equal(status, 200, JSON.stringify(variables));
      assert.deepEqual(codes(body.errors), ["BAD_USER_INPUT"], JSON.stringify(variables));
      assert.equal(body.data, null);
    }
  });

  test("an inverted date range is BAD_USER_INPUT on the field, the rest answers", async () => {
    const { body } = await ask(
      `{ user(id: "USR_42891") { id debts { id } expenses(from: "2026-05-10", to: "2026-05-01") { totalCount } } }`,
    );
    assert.deepEqual(codes(body.errors), ["BAD_USER_INPUT"]);
    assert.equal(body.data!.user.id, "USR_42891");
    assert.ok(body.data!.user.debts.length > 0);
  });

  test("wellnessHistory outside 1..24 months is BAD_USER_INPUT", async () => {
    const { body } = await ask(`{ user(id: "USR_42891") { wellnessHistory(months: 0) { score } } }`);
    assert.deepEqual(codes(body.errors), ["BAD_USER_INPUT"]);
  });

  test("a body that is not JSON, or not JSON at all, is a 4xx with a code", async () => {
    const notJson = await fetch(kamina.graphqlUrl, { method: "POST", headers, body: "{ query: " });
    assert.equal(notJson.status, 400);
    assert.deepEqual(codes(((await notJson.json()) as { errors: { extensions: Record<string, unknown> }[] }).errors), ["BAD_REQUEST"]);

    const text = await fetch(kamina.graphqlUrl, { method: "POST", headers: { ...headers, "content-type": "text/plain" }, body: "{ users { totalCount } }" });
    assert.equal(text.status, 415);

    const noQuery = await fetch(kamina.graphqlUrl, { method: "POST", headers, body: "{}" });
    assert.equal(noQuery.status, 400);
  });

  test("a syntax error is GRAPHQL_PARSE_FAILED", async () => {
    const { status, body } = await ask(`{ user(id: "USR_42891") { id `);
    assert.equal(status, 400);
    assert.deepEqual(codes(body.errors), ["GRAPHQL_PARSE_FAILED"]);
  });

  test("no error carries a stack trace", async () => {
    const { body } = await ask(`{ users(first: -5) { totalCount } }`);
    for (const error of body.errors ?? []) assert.equal(error.extensions?.stacktrace, undefined);
  });

  test("a NUL character in a variable or in the document is BAD_USER_INPUT, not a database error", async () => {
    for (const [query, variables] of [
      [`query($id: ID!) { user(id: $id) { id debts { id } } }`, { id: "USR_42891\u0000" }],
      [`query($category: String) { me { expenses(category: $category) { totalCount } } }`, { category: "food\u0000" }],
      [`{ user(id: "USR_42891\\u0000") { id } }`, undefined],
    ] as const) {
      const { status, body } = await ask(query, variables);
      assert.equal(status, 400, JSON.stringify(body));
      assert.deepEqual(codes(body.errors), ["BAD_USER_INPUT"], JSON.stringify(body.errors));
      assert.match(body.errors![0]!.message, /NUL/);
    }
  });

  test("a cursor with an id past PostgreSQL's bigint, or a year it cannot store, is BAD_USER_INPUT", async () => {
    for (const after of [cursor(["2026-05-01T00:00:00.000Z", "9999999999999999999"]), cursor(["-271821-04-20T00:00:00.000Z", "1"]), cursor(["+275760-09-13T00:00:00.000Z", "1"])]) {
      const { status, body } = await ask(`query($after: String) { me { id expenses(first: 5, after: $after) { totalCount } } }`, { after });
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(codes(body.errors), ["BAD_USER_INPUT"], JSON.stringify(body.errors));
      assert.equal(body.data!.me.id, "USR_42891");
    }
  });

  test("an operationName that names no operation, or several operations with none named, is OPERATION_RESOLUTION_FAILURE", async () => {
    const post = (payload: Record<string, unknown>) => fetch(kamina.graphqlUrl, { method: "POST", headers, body: JSON.stringify(payload) });
    for (const payload of [
      { query: "query A { me { id } }", operationName: "B" },
      { query: "query A { me { id } } query B { me { country } }" },
      { query: "query A { me { id } } query B { me { country } }", operationName: "C" },
    ]) {
      const response = await post(payload);
      assert.equal(response.status, 400, JSON.stringify(payload));
      const body = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
      assert.deepEqual(codes(body.errors), ["OPERATION_RESOLUTION_FAILURE"], JSON.stringify(body));
    }
    const named = await post({ query: "query A { me { id } } query B { me { country } }", operationName: "B" });
    assert.equal(named.status, 200);
  });

  test("a subscription sent over HTTP POST is 400 OPERATION_NOT_SUPPORTED", async () => {
    const { status, body } = await ask(`subscription { alertCreated { id } }`);
    assert.equal(status, 400, JSON.stringify(body));
    assert.deepEqual(codes(body.errors), ["OPERATION_NOT_SUPPORTED"]);
    assert.match(body.errors![0]!.message, /graphql-ws/);
  });

  test("a body over the size limit is 413 PAYLOAD_TOO_LARGE", async () => {
    const response = await fetch(kamina.graphqlUrl, { method: "POST", headers, body: JSON.stringify({ query: `{ me { id } }`, padding: "x".repeat(2 * 1024 * 1024) }) });
    assert.equal(response.status, 413);
    assert.deepEqual(codes(((await response.json()) as { errors: { extensions: Record<string, unknown> }[] }).errors), ["PAYLOAD_TOO_LARGE"]);
  });

  test("a body that does not arrive in time is dropped with 408 REQUEST_TIMEOUT, before any authentication", async () => {
    const { answer, ms } = await rawExchange(
      kamina.gateway!.origin,
      'POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":',
    );
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.match(answer, /REQUEST_TIMEOUT/);
    assert.ok(ms < 3_000, `dropped after ${ms.toFixed(0)} ms`);
  });

  test("headers that do not arrive in time are dropped with 408", async () => {
    const { answer, ms } = await rawExchange(kamina.gateway!.origin, "POST /graphql HTTP/1.1\r\nHost: localhost\r\n");
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.ok(ms < 3_000, `dropped after ${ms.toFixed(0)} ms`);
  });

  // Last: it stops a subgraph for good.
  test("a subgraph stopped mid-test: its fields are null with SUBGRAPH_UNAVAILABLE, the rest answers", async () => {
    const query = `{ user(id: "USR_42891") { id country wellness { score } debts { issuer balance } alerts { type } } }`;
    const healthy = await ask(query);
    assert.equal(healthy.body.errors, undefined);

    await kamina.subgraphs.debts!.stop();
    const { status, body } = await ask(query);
    assert.equal(status, 200);
    const user = body.data!.user;
    assert.equal(user.id, "USR_42891");
    assert.equal(user.wellness.score, healthy.body.data!.user.wellness.score);
    assert.deepEqual(user.alerts, healthy.body.data!.user.alerts);
    assert.equal(user.debts, null);
    assert.ok(codes(body.errors).includes("SUBGRAPH_UNAVAILABLE"), JSON.stringify(body.errors));
    assert.ok(body.errors!.every((error) => !/ECONNREFUSED|127\.0\.0\.1/.test(error.message)), "no transport detail leaks");
  });
});
