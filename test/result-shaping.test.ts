import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { operationFromDocument, Supergraph } from "@apollo/federation-internals";
import { parse } from "graphql";
import { readSupergraph } from "../gateway/server.ts";
import { readSupergraphSecurity } from "../gateway/scopes/supergraph-rules.ts";
import { shapeResult } from "../gateway/result-shaping.ts";

// The gateway's shaping must answer exactly as @apollo/gateway's own computeResponse: both are
// run here over the same merged subgraph answers, and their results compared as the client
// receives them (JSON text, key order included).
const apollo = createRequire(import.meta.url)("@apollo/gateway/dist/resultShaping.js") as { computeResponse: Parameters<typeof shapeResult>[1] };
const apiSchema = Supergraph.build(readSupergraphSecurity(readSupergraph()).gatewaySdl).apiSchema();

function bothShapings(query: string, input: Record<string, unknown>, variables?: Record<string, unknown>) {
  const options = () => ({ operation: operationFromDocument(apiSchema, parse(query), { validate: false }), variables, input: structuredClone(input), introspectionHandling: () => ({ introspected: true }) });
  let apolloResult: unknown;
  let apolloError: unknown;
  try {
    apolloResult = apollo.computeResponse(options());
  } catch (error) {
    apolloError = error;
  }
  let ours: unknown;
  let ourError: unknown;
  let handedToApollo = false;
  try {
    ours = shapeResult(options(), (handed) => {
      handedToApollo = true;
      return apollo.computeResponse(handed);
    });
  } catch (error) {
    ourError = error;
  }
  return { apolloResult, apolloError, ours, ourError, handedToApollo };
}

/** `shapedBy`: whether the gateway's shaping answers itself or hands the answer to Apollo's. */
function assertSameShaping(query: string, input: Record<string, unknown>, variables: Record<string, unknown> | undefined, shapedBy: "gateway" | "apollo"): void {
  const { apolloResult, apolloError, ours, ourError, handedToApollo } = bothShapings(query, input, variables);
  assert.equal(String(ourError), String(apolloError));
  assert.equal(JSON.stringify(ours), JSON.stringify(apolloResult));
  assert.equal(handedToApollo ? "apollo" : "gateway", shapedBy, `${query} ${JSON.stringify(input)}`);
}

const user = (id: string, extra: Record<string, unknown> = {}) => ({
  __typename: "User",
  id,
  country: "MX",
  wellness: { score: 61, band: "AMBER" },
  debts: [{ issuer: "Banco", balance: "120.50", __typename: "Debt" }],
  debtSummary: { openCount: 1 },
  expenses: { totalCount: 2, edges: [{ node: { amount: "3.20", category: "food" } }, { node: { amount: "9.99", category: "transport" } }] },
  incomeStreams: [{ monthlyAmount: "1500.00" }],
  coachSessions: [],
  alerts: null,
  ...extra,
});
const page = (...nodes: unknown[]) => ({ users: { edges: nodes.map((node, index) => ({ cursor: `c${index}`, node })), pageInfo: { hasNextPage: true, endCursor: "c1" } } });

const PAGE = `query Page($after: String) { users(first: 20, after: $after) { edges { node { id country wellness { score band } debts { issuer balance } debtSummary { openCount } expenses(first: 5) { totalCount edges { node { amount category } } } incomeStreams { monthlyAmount } coachSessions { intent } alerts { type severity } } } pageInfo { hasNextPage endCursor } } }`;

test("a full five-subgraph page is shaped as Apollo shapes it", () => {
  assertSameShaping(PAGE, page(user("u1"), user("u2", { debts: null, wellness: null })), { after: "x" }, "gateway");
});

test("aliases, __typename (aliased too), repeated fields and inline fragments are shaped as Apollo shapes them", () => {
  const query = `{ users { all: edges { node { kind: __typename __typename id ... on User { id country who: id } ... { wellness { band } } wellness { score } } } edges { cursor } } }`;
  const answered = page(user("u1", { who: "u1" }), user("u2", { who: "u2" })).users;
  assertSameShaping(query, { users: { all: answered.edges, edges: answered.edges } }, undefined, "gateway");
  // A __typename the subgraph did not send is the field's own type.
  assertSameShaping(query, { users: { all: [{ node: { id: "u1", country: "MX", who: "u1", wellness: { band: "AMBER", score: 80 } } }], edges: [{ cursor: "c" }] } }, undefined, "gateway");
});

test("@skip and @include, on literals, variables and defaulted variables, are shaped as Apollo shapes them", () => {
  const query = `query ($a: Boolean!, $b: Boolean = true) { users { edges { node { id @skip(if: $a) country @include(if: $b) wellness @include(if: false) { score } ... on User @skip(if: true) { debts { issuer } } ... @include(if: $a) { debtSummary { openCount } } } } } }`;
  for (const variables of [{ a: true }, { a: false }, { a: false, b: false }]) assertSameShaping(query, page(user("u1")), variables, "gateway");
  assertSameShaping(query, page(user("u1")), { a: "yes" }, "apollo");
});

test("nulls, missing fields and values their types refuse are left to Apollo, with its errors", () => {
  const cases: Record<string, unknown>[] = [
    page(user("u1", { wellness: { score: null, band: "AMBER" } })),
    page(user("u1", { country: null })),
    page(user("u1", { country: "NOT_A_COUNTRY" })),
    page(user("u1", { wellness: { score: 61.5, band: "AMBER" } })),
    page(user("u1", { wellness: { score: "61", band: "AMBER" } })),
    page(user("u1", { debts: [null] })),
    page(user("u1", { debts: "not a list" })),
    page(user("u1", { debtSummary: 7 })),
    page(user("u1", { __typename: "Nothing" })),
    page(user("u1", { __typename: 3 })),
    page(user("u1"), null),
    { users: null },
    { users: { edges: null, pageInfo: { hasNextPage: false, endCursor: null } } },
    {},
  ];
  for (const input of cases) assertSameShaping(PAGE, input, {}, "apollo");
});

test("response names Object.prototype has (__proto__, constructor) are shaped by Apollo, as keys of its prototype-less objects", () => {
  assertSameShaping(`{ users { __proto__: totalCount } }`, JSON.parse('{ "users": { "__proto__": 3 } }') as Record<string, unknown>, undefined, "apollo");
  assertSameShaping(`{ users { constructor: totalCount } }`, { users: { constructor: 3 } }, undefined, "apollo");
});

test("introspection fields are shaped by Apollo", () => {
  assertSameShaping(`{ __typename users { totalCount } __type(name: "User") { name } }`, { users: { totalCount: 3 } }, undefined, "apollo");
});
