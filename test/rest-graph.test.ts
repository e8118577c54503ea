import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { seedDatabase } from "../prisma/seed/index.ts";
import { startTestKamina } from "./support/kamina.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { assertEnvelope, rest } from "./support/rest.ts";
import { ContractChecker } from "../testkit/openapi-contract.ts";
import { bearer, clientToken, consentToken, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";

describe("the brief's REST routes, served over the same graph", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let origin: string;
  let asDemoUser: Record<string, string>;

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 20, seed: 5, sandboxClientSecret: TEST_SANDBOX_SECRET });
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 2 });
    origin = kamina.gateway!.origin;
    asDemoUser = bearer(await consentToken(kamina, "USR_42891"));
  });

  after(async () => {
    await kamina?.stop();
    await database?.drop();
  });

  test("GET /v1/diagnosis/latest answers the brief's shape for the token's person", async () => {
    const response = await rest(origin, "GET", "/v1/diagnosis/latest", { headers: asDemoUser });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const body = response.body;
    assert.deepEqual(Object.keys(body).sort(), ["band", "factors", "next_review_at", "score", "trend_30d", "user_id"]);
    assert.equal(body.user_id, "USR_42891");
    assert.equal(body.score, 64);
    assert.equal(body.band, "amber");
    assert.equal(body.trend_30d, -3);
    const factors = new Map(body.factors.map((factor: { name: string }) => [factor.name, factor]));
    assert.deepEqual(
      ["debt_to_income", "expense_volatility", "savings_ratio"].map((name) => factors.get(name)),
      [
        { name: "debt_to_income", weight: 0.2, value: 0.51 },
        { name: "expense_volatility", weight: 0.08, value: 0.18 },
        { name: "savings_ratio", weight: 0.14, value: 0.04 },
      ],
    );
    assert.match(body.next_review_at, /^\d{4}-\d{2}-\d{2}$/);
  });

  test("POST /v1/diagnosis/run computes a diagnosis with its action plan: the seeded one, again and again", async () => {
    const latest = (await rest(origin, "GET", "/v1/diagnosis/latest", { headers: asDemoUser })).body;
    const response = await rest(origin, "POST", "/v1/diagnosis/run", { headers: asDemoUser });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.user_id, "USR_42891");
    const { action_plan: _plan, ...diagnosis } = response.body;
    assert.deepEqual(diagnosis, latest, "running the demo person's diagnosis gives what was seeded");
    assert.deepEqual([response.body.score, response.body.band, response.body.trend_30d], [64, "amber", -3]);
    const second = await rest(origin, "POST", "/v1/diagnosis/run", { headers: asDemoUser });
    assert.deepEqual([second.body.score, second.body.band, second.body.trend_30d], [64, "amber", -3]);
    assert.equal((await rest(origin, "GET", "/v1/diagnosis/latest", { headers: asDemoUser })).body.score, 64);
    const weights = response.body.factors.reduce((sum: number, factor: { weight: number }) => sum + factor.weight, 0);
    assert.ok(Math.abs(weights - 1) < 1e-6);
    assert.ok(Array.isArray(response.body.action_plan));
  });

  test("GET /v1/exports/debts answers the brief's items", async () => {
    const response = await rest(origin, "GET", "/v1/exports/debts?format=json", { headers: asDemoUser });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const card = response.body.items.find((item: { issuer: string }) => item.issuer === "BBVA México");
    assert.deepEqual(
      { type: card.type, balance: card.balance, currency: card.currency, apr: card.apr },
      { type: "credit_card", balance: 12480.55, currency: "MXN", apr: 0.42 },
    );
    assert.deepEqual(response.body.items.map((item: { currency: string }) => item.currency), ["MXN", "MXN"]);
    assert.deepEqual(response.body.page, { next_cursor: null });
    assertEnvelope(await rest(origin, "GET", "/v1/exports/debts?format=xml", { headers: asDemoUser }), 400, "BAD_USER_INPUT");
  });

  test("GET /v1/alerts?since= lists the person's alerts in snake_case", async () => {
    const response = await rest(origin, "GET", "/v1/alerts?since=2020-01-01T00:00:00Z", { headers: asDemoUser });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.ok(response.body.items.length > 0);
    for (const alert of response.body.items) {
      assert.equal(alert.user_id, "USR_42891");
      assert.ok(["green", "amber", "red"].includes(alert.risk_band));
      assert.ok(Array.isArray(alert.contributing_factors));
    }
    assertEnvelope(await rest(origin, "GET", "/v1/alerts?since=yesterday", { headers: asDemoUser }), 400, "BAD_USER_INPUT");
  });

  test("without a token, or for a person it cannot see, the envelope says why", async () => {
    assertEnvelope(await rest(origin, "GET", "/v1/diagnosis/latest"), 401, "UNAUTHENTICATED");
    assertEnvelope(await rest(origin, "GET", "/v1/diagnosis/latest", { headers: { authorization: "Bearer not.a.token" } }), 401, "UNAUTHENTICATED");
    const partner = bearer(await clientToken(kamina));
    assertEnvelope(await rest(origin, "GET", "/v1/diagnosis/latest?user_id=USR_00000001", { headers: partner }), 404, "NOT_FOUND");
  });

  test("a 401 says how to authenticate: a bare Bearer challenge without a token, invalid_token with a refused one", async () => {
    const none = await rest(origin, "GET", "/v1/diagnosis/latest");
    assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="kamina-graph"');
    const bad = await rest(origin, "GET", "/v1/diagnosis/latest", { headers: { authorization: "Bearer not.a.token" } });
    assert.match(bad.headers.get("www-authenticate") ?? "", /^Bearer realm="kamina-graph", error="invalid_token", error_description="The token is not valid"$/);
    for (const [headers, expected] of [
      [{}, /^Bearer realm="kamina-graph"$/],
      [{ authorization: "Bearer not.a.token" }, /^Bearer realm="kamina-graph", error="invalid_token", error_description="/],
    ] as const) {
      const graphql = await fetch(kamina.graphqlUrl, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query: "{ __typename }" }) });
      assert.equal(graphql.status, 401);
      assert.match(graphql.headers.get("www-authenticate") ?? "", expected);
    }
  });

  test("a partner token on a person's route without user_id is a 400 naming user_id, on every such route", async () => {
    const partner = bearer(await clientToken(kamina));
    for (const [method, path] of [
      ["GET", "/v1/diagnosis/latest"],
      ["GET", "/v1/debts"],
      ["GET", "/v1/expenses?from=2026-09-01&to=2026-09-30"],
      ["GET", "/v1/alerts"],
      ["GET", "/v1/coach/sessions"],
    ] as const) {
      assertEnvelope(await rest(origin, method, path, { headers: partner }), 400, "BAD_USER_INPUT", /^`user_id` is required with a partner \(client-credentials\) token/);
    }
    // The subgraph's own input errors come back under the REST body's names.
    const run = await rest(origin, "POST", "/v1/diagnosis/run", { headers: partner });
    assertEnvelope(run, 400, "BAD_USER_INPUT", /`user_id` is required/);
    assert.doesNotMatch(run.body.message, /userId/);
    const alert = await rest(origin, "POST", "/v1/sandbox/alerts", { headers: partner, json: { type: "income_drop" } });
    assertEnvelope(alert, 400, "BAD_USER_INPUT", /`user_id` is required/);
  });

  test("each route answers as GET /v1/openapi.json documents it, on success and on bad input", async () => {
    const document = await rest(origin, "GET", "/v1/openapi.json");
    assert.equal(document.status, 200);
    const checker = new ContractChecker(document.body);
    const calls: [string, string, { headers?: Record<string, string>; json?: unknown }, number][] = [
      ["GET", "/.well-known/jwks.json", {}, 200],
      ["GET", "/v1/diagnosis/latest", { headers: asDemoUser }, 200],
      ["GET", "/v1/diagnosis/latest?user_id=%3Cscript%3E", { headers: asDemoUser }, 400],
      ["POST", "/v1/diagnosis/run", { headers: asDemoUser }, 200],
      ["POST", "/v1/diagnosis/run", { headers: asDemoUser, json: ["not", "an", "object"] }, 400],
      ["GET", "/v1/alerts?since=2020-01-01T00:00:00Z&limit=5", { headers: asDemoUser }, 200],
      ["GET", "/v1/alerts?since=yesterday", { headers: asDemoUser }, 400],
      ["POST", "/v1/sandbox/alerts", { headers: asDemoUser, json: { type: "income_drop" } }, 201],
      ["POST", "/v1/sandbox/alerts", { headers: asDemoUser, json: { type: "lottery_win" } }, 400],
    ];
    for (const [method, path, options, status] of calls) {
      const response = await rest(origin, method, path, options);
      assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(response.body)}`);
      assert.deepEqual(checker.problems({ method, path, status: response.status, contentType: response.headers.get("content-type"), body: response.body }), [], `${method} ${path}`);
    }
  });
});
