// SQL injection in every string argument of the schema and every string parameter of the REST
// routes (a path segment, a query parameter), and NUL bytes where PostgreSQL would choke on them.
// Each answer is the one a harmless unknown value gets: nothing found, or the value refused as
// malformed; never more rows, never a database error, never a wait for pg_sleep.
import { bearer } from "../../../testkit/tokens.ts";
import { allErrors, at, both, dataOf, type Attack, type Expectation, type Outcome } from "../attack.ts";
import type { SecurityContext } from "../context.ts";
import { closeCode, noSubscriptionData, once } from "../shared.ts";

const PAYLOADS: [name: string, value: string][] = [
  ["or-true", "' OR '1'='1"],
  ["drop-table", "'; DROP TABLE app_user; --"],
  ["union", "x' UNION SELECT id, secret_hash FROM partner_client --"],
  ["sleep", "'; SELECT pg_sleep(5); --"],
  ["like-wildcard", "%' OR 1=1 OR '%'='"],
  ["comment-tail", "USR_42891' --"],
];

/** A pg_sleep that ran would show here. */
const SLOW_MS = 3_000;

async function timed(run: () => Promise<Outcome>): Promise<Outcome> {
  const started = performance.now();
  const outcome = await run();
  const ms = performance.now() - started;
  return { ...outcome, note: `${ms.toFixed(0)} ms${outcome.note ? `; ${outcome.note}` : ""}` };
}

const quick = (outcome: Outcome): string | undefined => (Number.parseFloat(outcome.note ?? "0") < SLOW_MS ? undefined : `took ${outcome.note}: the database slept`);

/** Row counts of the tables the payloads aim at, taken once, before the first payload is sent. */
const rowCounts = once(async (ctx: SecurityContext) => {
  const { rows } = await ctx.sql.query<{ users: string; clients: string }>(`SELECT (SELECT count(*) FROM app_user)::text AS users, (SELECT count(*) FROM partner_client)::text AS clients`);
  return rows[0]!;
});

type Token = (ctx: SecurityContext) => string;
const personA: Token = (ctx) => ctx.tokens.a;
const partner: Token = (ctx) => ctx.tokens.demoClient;

interface ArgumentCase {
  argument: string;
  token: Token;
  /** The operation with `$v` as the argument's variable. */
  query: string;
  expect: Expectation;
}

const fieldError = (code: string, path: string[]): Expectation => ({
  status: 200,
  code,
  means: `200, ${path.join(".")} null with ${code}`,
  check: both(allErrors(code), (o) => (at(o, ...path) == null ? undefined : `${path.join(".")} came back`)),
});
const nothingFound = (path: string[], empty: (value: unknown) => boolean): Expectation => ({
  status: 200,
  code: null,
  means: `200, ${path.join(".")} empty`,
  check: (o) => (empty(at(o, ...path)) ? undefined : `${path.join(".")}: ${JSON.stringify(at(o, ...path)).slice(0, 120)}`),
});

const GRAPHQL_ARGUMENTS: ArgumentCase[] = [
  { argument: "Query.user(id:)", token: partner, query: "query($v: ID!) { user(id: $v) { id debts { balance } } }", expect: nothingFound(["user"], (value) => value === null) },
  { argument: "Query.users(after:)", token: partner, query: "query($v: String) { users(first: 5, after: $v) { totalCount edges { node { id } } } }", expect: { ...fieldError("BAD_USER_INPUT", ["users"]) } },
  { argument: "Query.preventionReport(period:)", token: partner, query: "query($v: String!) { preventionReport(period: $v) { minCell } }", expect: fieldError("BAD_USER_INPUT", ["preventionReport"]) },
  { argument: "User.expenses(category:)", token: personA, query: "query($v: String) { me { expenses(category: $v) { totalCount } } }", expect: nothingFound(["me", "expenses", "totalCount"], (value) => value === 0) },
  { argument: "User.expenses(after:)", token: personA, query: "query($v: String) { me { id expenses(first: 5, after: $v) { totalCount } } }", expect: fieldError("BAD_USER_INPUT", ["me", "expenses"]) },
  { argument: "User.expenses(from:)", token: personA, query: "query($v: Date) { me { expenses(from: $v) { totalCount } } }", expect: fieldError("BAD_USER_INPUT", ["me", "expenses"]) },
  { argument: "User.expenses(to:)", token: personA, query: "query($v: Date) { me { expenses(to: $v) { totalCount } } }", expect: fieldError("BAD_USER_INPUT", ["me", "expenses"]) },
  { argument: "User.alerts(since:)", token: personA, query: "query($v: DateTime) { me { alerts(since: $v) { id } } }", expect: fieldError("BAD_USER_INPUT", ["me", "alerts"]) },
  { argument: "User.alertFeed(since:)", token: personA, query: "query($v: DateTime) { me { alertFeed(since: $v) { pageInfo { endCursor } } } }", expect: fieldError("BAD_USER_INPUT", ["me", "alertFeed"]) },
  { argument: "User.alertFeed(after:)", token: personA, query: "query($v: String) { me { alertFeed(after: $v) { pageInfo { endCursor } } } }", expect: fieldError("BAD_USER_INPUT", ["me", "alertFeed"]) },
  { argument: "User.coachSessions(from:)", token: personA, query: "query($v: DateTime) { me { coachSessions(from: $v) { intent } } }", expect: fieldError("BAD_USER_INPUT", ["me", "coachSessions"]) },
  { argument: "User.coachSessions(to:)", token: personA, query: "query($v: DateTime) { me { coachSessions(to: $v) { intent } } }", expect: fieldError("BAD_USER_INPUT", ["me", "coachSessions"]) },
  { argument: "Mutation.acknowledgeAlert(id:)", token: personA, query: "mutation($v: ID!) { acknowledgeAlert(id: $v) { id } }", expect: fieldError("NOT_FOUND", ["acknowledgeAlert"]) },
  { argument: "Mutation.resolveAlert(id:)", token: personA, query: "mutation($v: ID!) { resolveAlert(id: $v) { id } }", expect: fieldError("NOT_FOUND", ["resolveAlert"]) },
  { argument: "Mutation.raiseSandboxAlert(type:)", token: personA, query: "mutation($v: String!) { raiseSandboxAlert(type: $v) { id } }", expect: fieldError("BAD_USER_INPUT", ["raiseSandboxAlert"]) },
  { argument: "Mutation.raiseSandboxAlert(userId:)", token: partner, query: `mutation($v: ID) { raiseSandboxAlert(type: "expense_spike_food", userId: $v) { id } }`, expect: fieldError("NOT_FOUND", ["raiseSandboxAlert"]) },
  { argument: "Mutation.runDiagnosis(userId:)", token: partner, query: "mutation($v: ID) { runDiagnosis(userId: $v) { score } }", expect: fieldError("NOT_FOUND", ["runDiagnosis"]) },
];

const graphqlInjections: Attack[] = GRAPHQL_ARGUMENTS.flatMap((item) =>
  PAYLOADS.map(([name, value]): Attack => ({
    id: `sql-injection/${item.argument}/${name}`,
    class: "sql-injection",
    description: `${item.argument} = ${JSON.stringify(value)}`,
    run: async (ctx) => {
      await rowCounts(ctx);
      return timed(() => ctx.gql(ctx.graphqlUrl, item.query, { v: value }, bearer(item.token(ctx))));
    },
    expect: { ...item.expect, check: both(item.expect.check ?? (() => undefined), quick) },
  })),
);

const subscriptionInjections: Attack[] = (["userId", "after"] as const).flatMap((argument) =>
  PAYLOADS.slice(0, 3).map(([name, value]): Attack => ({
    id: `sql-injection/Subscription.alertCreated(${argument}:)/${name}`,
    class: "sql-injection",
    description: `alertCreated(${argument}: ${JSON.stringify(value)}) over graphql-ws`,
    run: (ctx) => closeCode(ctx, { authorization: `Bearer ${ctx.tokens.demoClient}` }, `subscription { alertCreated(${argument}: ${JSON.stringify(value)}) { id } }`, 1_500),
    expect:
      argument === "after"
        ? { status: 0, code: "BAD_USER_INPUT", means: "the subscription refused with a coded error, socket open", check: noSubscriptionData }
        : { status: 0, code: null, means: "nobody by that id: subscribed to nothing, no result", check: noSubscriptionData },
  })),
);

type Auth = (ctx: SecurityContext) => Record<string, string>;
const consentAuth: Auth = (ctx) => bearer(ctx.tokens.a);
const partnerAuth: Auth = (ctx) => bearer(ctx.tokens.demoClient);
const basicAuth: Auth = (ctx) => ctx.clients.demo.basic;

interface ParameterCase {
  parameter: string;
  method: string;
  auth: Auth;
  /** The path with the value put in (URL-encoded). */
  path: (ctx: SecurityContext, value: string) => string;
  expect: Expectation;
}

const q = encodeURIComponent;

const REST_PARAMETERS: ParameterCase[] = [
  { parameter: "GET /v1/consents/{id}", method: "GET", auth: basicAuth, path: (_ctx, v) => `/v1/consents/${q(v)}`, expect: { status: 404, code: "NOT_FOUND" } },
  { parameter: "DELETE /v1/consents/{id}", method: "DELETE", auth: basicAuth, path: (_ctx, v) => `/v1/consents/${q(v)}`, expect: { status: 404, code: "NOT_FOUND" } },
  { parameter: "GET /v1/consents/{id}/receipts", method: "GET", auth: basicAuth, path: (_ctx, v) => `/v1/consents/${q(v)}/receipts`, expect: { status: 404, code: "NOT_FOUND" } },
  { parameter: "GET /v1/consents/{id}/receipts?cursor", method: "GET", auth: basicAuth, path: (ctx, v) => `/v1/consents/${ctx.tokens.aConsentId}/receipts?cursor=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT" } },
  { parameter: "GET /v1/reports/prevention?period", method: "GET", auth: partnerAuth, path: (_ctx, v) => `/v1/reports/prevention?period=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT" } },
  { parameter: "GET /v1/diagnosis/latest?user_id", method: "GET", auth: partnerAuth, path: (_ctx, v) => `/v1/diagnosis/latest?user_id=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT", means: "400: not a user id" } },
  { parameter: "GET /v1/alerts?since", method: "GET", auth: consentAuth, path: (_ctx, v) => `/v1/alerts?since=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT" } },
  { parameter: "GET /v1/alerts?user_id", method: "GET", auth: partnerAuth, path: (_ctx, v) => `/v1/alerts?user_id=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT", means: "400: not a user id" } },
  { parameter: "GET /v1/debts?status", method: "GET", auth: consentAuth, path: (_ctx, v) => `/v1/debts?status=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT" } },
  { parameter: "GET /v1/debts?user_id", method: "GET", auth: partnerAuth, path: (_ctx, v) => `/v1/debts?user_id=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT", means: "400: not a user id" } },
  { parameter: "GET /v1/exports/debts?format", method: "GET", auth: consentAuth, path: (_ctx, v) => `/v1/exports/debts?format=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT" } },
  { parameter: "GET /v1/exports/debts?user_id", method: "GET", auth: partnerAuth, path: (_ctx, v) => `/v1/exports/debts?user_id=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT", means: "400: not a user id" } },
  { parameter: "GET /v1/expenses?from", method: "GET", auth: consentAuth, path: (_ctx, v) => `/v1/expenses?from=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT" } },
  { parameter: "GET /v1/expenses?to", method: "GET", auth: consentAuth, path: (_ctx, v) => `/v1/expenses?to=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT" } },
  { parameter: "GET /v1/expenses?category", method: "GET", auth: consentAuth, path: (_ctx, v) => `/v1/expenses?category=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT", means: "400: not a category" } },
  { parameter: "GET /v1/expenses?cursor", method: "GET", auth: consentAuth, path: (_ctx, v) => `/v1/expenses?cursor=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT" } },
  { parameter: "GET /v1/expenses?user_id", method: "GET", auth: partnerAuth, path: (_ctx, v) => `/v1/expenses?user_id=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT", means: "400: not a user id" } },
  { parameter: "GET /v1/coach/sessions?from", method: "GET", auth: consentAuth, path: (_ctx, v) => `/v1/coach/sessions?from=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT" } },
  { parameter: "GET /v1/coach/sessions?user_id", method: "GET", auth: partnerAuth, path: (_ctx, v) => `/v1/coach/sessions?user_id=${q(v)}`, expect: { status: 400, code: "BAD_USER_INPUT", means: "400: not a user id" } },
  { parameter: "GET /v1/exports/wellness/{id}", method: "GET", auth: partnerAuth, path: (_ctx, v) => `/v1/exports/wellness/${q(v)}`, expect: { status: 404, code: "NOT_FOUND" } },
  { parameter: "GET /v1/exports/files/{id}?signature", method: "GET", auth: () => ({}), path: (_ctx, v) => `/v1/exports/files/exp_x?expires=9999999999&signature=${q(v)}`, expect: { status: 403, code: "FORBIDDEN" } },
  { parameter: "DELETE /v1/webhooks/{id}", method: "DELETE", auth: basicAuth, path: (_ctx, v) => `/v1/webhooks/${q(v)}`, expect: { status: 404, code: "NOT_FOUND" } },
  { parameter: "POST /v1/webhooks/{id}/replay", method: "POST", auth: basicAuth, path: (_ctx, v) => `/v1/webhooks/${q(v)}/replay`, expect: { status: 404, code: "NOT_FOUND" } },
];

const restInjections: Attack[] = REST_PARAMETERS.flatMap((item) =>
  PAYLOADS.map(([name, value]): Attack => ({
    id: `sql-injection/${item.parameter}/${name}`,
    class: "sql-injection",
    description: `${item.parameter} = ${JSON.stringify(value)}`,
    run: async (ctx) => {
      await rowCounts(ctx);
      return timed(() => ctx.rest(item.method, item.path(ctx, value), { headers: item.auth(ctx) }));
    },
    expect:
      name === "like-wildcard" && item.parameter.includes("{id}") && !item.parameter.includes("?")
        ? { status: 400, code: "BAD_REQUEST", means: "400: a '%' in a path segment is a malformed path", check: quick }
        : { ...item.expect, check: both(item.expect.check ?? (() => undefined), quick) },
  })),
);

const integrity: Attack = {
  id: "sql-injection/tables-intact",
  class: "sql-injection",
  description: "after every payload: the user and partner_client tables hold what they held before",
  phase: "serial",
  run: async (ctx) => {
    const before = await rowCounts(ctx);
    const { rows } = await ctx.sql.query<{ users: string; clients: string }>(`SELECT (SELECT count(*) FROM app_user)::text AS users, (SELECT count(*) FROM partner_client)::text AS clients`);
    return { status: rows[0]!.users === before.users && rows[0]!.clients === before.clients ? 200 : 500, code: null, body: { before, after: rows[0] } };
  },
  expect: { status: 200, code: null, means: "row counts unchanged" },
};

/** NUL bytes: PostgreSQL refuses them in text, so each must be a coded 4xx before any query. */
const nul: Attack[] = [
  { id: "nul-byte/consent-path", class: "nul-byte", description: "GET /v1/consents/%00", run: (ctx) => ctx.rest("GET", "/v1/consents/%00", { headers: ctx.clients.demo.basic }), expect: { status: 400, code: "BAD_USER_INPUT" } },
  { id: "nul-byte/consent-path-suffix", class: "nul-byte", description: "GET /v1/consents/cns_x%00/receipts", run: (ctx) => ctx.rest("GET", "/v1/consents/cns_x%00/receipts", { headers: ctx.clients.demo.basic }), expect: { status: 400, code: "BAD_USER_INPUT" } },
  { id: "nul-byte/export-path", class: "nul-byte", description: "GET /v1/exports/wellness/%00", run: (ctx) => ctx.rest("GET", "/v1/exports/wellness/%00", { headers: bearer(ctx.tokens.demoClient) }), expect: { status: 400, code: "BAD_USER_INPUT" } },
  { id: "nul-byte/webhook-path", class: "nul-byte", description: "DELETE /v1/webhooks/%00", run: (ctx) => ctx.rest("DELETE", "/v1/webhooks/%00", { headers: ctx.clients.demo.basic }), expect: { status: 400, code: "BAD_USER_INPUT" } },
  {
    id: "nul-byte/basic-client-id",
    class: "nul-byte",
    description: "a NUL byte in the Basic client id",
    run: (ctx) => ctx.rest("POST", "/v1/auth/token", { headers: { authorization: `Basic ${Buffer.from("of_lab\u0000demo:whatever").toString("base64")}` }, form: { grant_type: "client_credentials" } }),
    expect: { status: 401, code: "UNAUTHENTICATED" },
  },
  {
    id: "nul-byte/basic-secret",
    class: "nul-byte",
    description: "a NUL byte in the Basic secret",
    run: (ctx) => ctx.rest("POST", "/v1/auth/token", { headers: { authorization: `Basic ${Buffer.from("sec_sandbox_two:x\u0000y").toString("base64")}` }, form: { grant_type: "client_credentials" } }),
    expect: { status: 401, code: "UNAUTHENTICATED" },
  },
  {
    id: "nul-byte/consent-body",
    class: "nul-byte",
    description: "a NUL byte in user_external_id of a consent request",
    run: (ctx) =>
      ctx.rest("POST", "/v1/auth/consent", {
        headers: ctx.clients.demo.basic,
        json: { client_id: "of_lab_demo", user_external_id: "USR_42891\u0000", scopes: ["debts.read"], country: "MX", consent_text_version: "2026-05-01" },
      }),
    expect: { status: 400, code: "BAD_USER_INPUT" },
  },
  {
    id: "nul-byte/refresh-token",
    class: "nul-byte",
    description: "a NUL byte in a refresh token",
    run: (ctx) => ctx.rest("POST", "/v1/auth/token", { headers: ctx.clients.demo.basic, form: { grant_type: "refresh_token", refresh_token: "rf_\u0000" } }),
    expect: { status: 400, code: "BAD_USER_INPUT", means: "400: no field accepts a NUL" },
  },
  ...GRAPHQL_ARGUMENTS.filter((item) => !/from|to|since/.test(item.argument)).map(
    (item): Attack => ({
      id: `nul-byte/${item.argument}`,
      class: "nul-byte",
      description: `${item.argument} with a NUL byte`,
      run: (ctx) => ctx.gql(ctx.graphqlUrl, item.query, { v: "abc\u0000def" }, bearer(item.token(ctx))),
      expect: { status: 400, code: "BAD_USER_INPUT", check: (o) => (dataOf(o) == null ? undefined : "data beside the refusal") },
    }),
  ),
  {
    id: "nul-byte/inline-literal",
    class: "nul-byte",
    description: "a NUL byte in a string literal of the document",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, `{ user(id: "USR_42891\\u0000") { id } }`, undefined, bearer(ctx.tokens.demoClient)),
    expect: { status: 400, code: "BAD_USER_INPUT" },
  },
  ...(["user_id", "category"] as const).map(
    (parameter): Attack => ({
      id: `nul-byte/rest-${parameter}`,
      class: "nul-byte",
      description: `GET /v1/expenses?${parameter}=%00`,
      run: (ctx) => ctx.rest("GET", `/v1/expenses?${parameter}=a%00b`, { headers: bearer(parameter === "user_id" ? ctx.tokens.demoClient : ctx.tokens.a) }),
      expect: { status: 400, code: "BAD_USER_INPUT" },
    }),
  ),
];

export const attacks: Attack[] = [...graphqlInjections, ...subscriptionInjections, ...restInjections, integrity, ...nul];
