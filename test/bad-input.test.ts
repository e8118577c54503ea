import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { seedDatabase } from "../prisma/seed/index.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { bearer, consentToken } from "../testkit/tokens.ts";
import { postGraphQL, startTestKamina } from "./support/kamina.ts";

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
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 2 });
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
