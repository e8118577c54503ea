// The three measured operations and the shape checks that guard them: a broken setup must
// fail loudly rather than produce fast numbers.
import assert from "node:assert/strict";
import type { ScenarioName } from "./options.ts";
import { documentHash } from "../../gateway/trusted-documents/trusted-document-store.ts";

export const FIVE_SUBGRAPHS_QUERY = `query FiveSubgraphs { users(first: 20) { edges { node { id country wellness { score band } debts { issuer balance } debtSummary { openCount } expenses(first: 5) { totalCount edges { node { amount category } } } incomeStreams { monthlyAmount } coachSessions { intent } alerts { type severity } } } } }`;

/** The same page, one page of the users connection after another: no two requests in flight are the same (the distinct-pages load). */
export const FIVE_SUBGRAPHS_PAGE_QUERY = FIVE_SUBGRAPHS_QUERY.replace("query FiveSubgraphs {", "query FiveSubgraphsPage($after: String) {").replace("users(first: 20)", "users(first: 20, after: $after)");

/** Lists the full pages' cursors before the distinct-pages loads. */
export const PAGES_QUERY = "query Pages($after: String) { users(first: 20, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } }";

/**
 * A request's body: the query's text, or (`byHash`, a gateway that runs only trusted documents)
 * only its registered document's SHA-256, as a partner's client sends it in production.
 */
export function requestBody(query: string, variables: Record<string, unknown> | undefined, byHash = false): string {
  const document = byHash ? { extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(query) } } } : { query };
  return JSON.stringify(variables === undefined ? document : { ...document, variables });
}

/** Wellness fields only: the gateway plans a single fetch, the same text the subgraph can answer alone. */
export const WELLNESS_ONLY_QUERY = `query WellnessOnly { users(first: 20) { edges { node { id country wellness { score band } savingsGoals { kind progress } } } } }`;

export interface Scenario {
  name: ScenarioName;
  description: string;
  url: string;
  query: string;
  /** Sent with every request (authorization). */
  headers: Record<string, string>;
  /** Send the document's hash instead of its text (the gateway enforces trusted documents). */
  byHash?: boolean;
  /** Variables of each request in turn (a rotating cursor); none: every request the same. */
  variables?: readonly Record<string, unknown>[];
  /** Connections this scenario is driven with, whatever --connections says (the single-connection latency). */
  connections?: number;
  /** Headers made afresh for each request's body: a subgraph port answers only requests signed as the gateway signs them. */
  sign?: (body: string) => Record<string, string>;
  /** Throws when a response's data is not what the query asks for. */
  checkData(data: unknown): void;
}

type Node = Record<string, unknown>;

function nodesOf(data: unknown): Node[] {
  assert.ok(data && typeof data === "object", "no data");
  const users = (data as { users?: { edges?: { node?: Node }[] } }).users;
  assert.ok(users && Array.isArray(users.edges), "data.users.edges is not a list");
  assert.equal(users.edges.length, 20, "expected a page of 20 users");
  return users.edges.map((edge, index) => {
    assert.ok(edge.node && typeof edge.node === "object", `edge ${index} has no node`);
    return edge.node;
  });
}

function hasFields(node: Node, fields: readonly string[]): void {
  for (const field of fields) assert.ok(field in node, `user ${String(node.id)} lacks ${field}`);
  assert.equal(typeof node.id, "string");
  assert.equal(typeof node.country, "string");
}

/** At least one user of the page has a non-empty value for `field`: the subgraph really answered. */
function someHave(nodes: Node[], field: string, test: (value: unknown) => boolean = (value) => Array.isArray(value) ? value.length > 0 : value !== null): void {
  assert.ok(nodes.some((node) => test(node[field])), `no user of the page has any ${field}: is the database seeded?`);
}

function checkWellnessOnly(data: unknown): void {
  const nodes = nodesOf(data);
  for (const node of nodes) hasFields(node, ["wellness", "savingsGoals"]);
  someHave(nodes, "wellness", (value) => typeof (value as { score?: unknown } | null)?.score === "number");
  someHave(nodes, "savingsGoals");
}

function checkFiveSubgraphs(data: unknown): void {
  const fields = ["wellness", "debts", "debtSummary", "expenses", "incomeStreams", "coachSessions", "alerts"] as const;
  const nodes = nodesOf(data);
  for (const node of nodes) hasFields(node, fields);
  someHave(nodes, "wellness", (value) => typeof (value as { score?: unknown } | null)?.score === "number");
  someHave(nodes, "debts");
  someHave(nodes, "expenses", (value) => ((value as { edges?: unknown[] } | null)?.edges?.length ?? 0) > 0);
  someHave(nodes, "incomeStreams");
  someHave(nodes, "coachSessions");
  someHave(nodes, "alerts");
}

/**
 * `pages`: the `after` cursors of full pages of 20 users (pageCursors); the distinct-pages loads
 * send them in turn. `signDirect` signs the direct scenario's requests as the gateway does.
 */
export function buildScenarios(
  gatewayUrl: string,
  wellnessUrl: string,
  headers: Record<string, string>,
  signDirect?: (body: string) => Record<string, string>,
  pages: readonly (string | null)[] = [null],
  byHash = false,
): Scenario[] {
  const variables = pages.map((after) => ({ after }));
  const viaGateway = (scenario: Scenario): Scenario => (byHash ? { ...scenario, byHash } : scenario);
  return ([
    {
      name: "distinct-pages",
      description: "gateway, the five-subgraph page with a rotating cursor: no two requests in flight the same",
      url: gatewayUrl,
      query: FIVE_SUBGRAPHS_PAGE_QUERY,
      variables,
      headers,
      checkData: checkFiveSubgraphs,
    },
    {
      name: "single-connection",
      description: "gateway, the distinct pages one request at a time (latency)",
      url: gatewayUrl,
      query: FIVE_SUBGRAPHS_PAGE_QUERY,
      variables,
      connections: 1,
      headers,
      checkData: checkFiveSubgraphs,
    },
    {
      name: "five-subgraphs",
      description: "gateway, 20 users with fields of all five subgraphs, every request the same page (identical pages)",
      url: gatewayUrl,
      query: FIVE_SUBGRAPHS_QUERY,
      headers,
      checkData: checkFiveSubgraphs,
    },
    {
      name: "one-subgraph-via-gateway",
      description: "gateway, 20 users with wellness fields only",
      url: gatewayUrl,
      query: WELLNESS_ONLY_QUERY,
      headers,
      checkData: checkWellnessOnly,
    },
    {
      name: "one-subgraph-direct",
      description: "the same wellness query posted to the wellness subgraph (ceiling)",
      url: wellnessUrl,
      query: WELLNESS_ONLY_QUERY,
      headers,
      ...(signDirect ? { sign: signDirect } : {}),
      checkData: checkWellnessOnly,
    },
  ] satisfies Scenario[]).map((scenario) => (scenario.url === gatewayUrl ? viaGateway(scenario) : scenario));
}

/** The `after` cursors of every full page of 20 users the caller sees, the first page's (null) included. */
export async function pageCursors(gatewayUrl: string, headers: Record<string, string>, byHash = false, max = 200): Promise<(string | null)[]> {
  const cursors: (string | null)[] = [];
  let after: string | null = null;
  while (cursors.length < max) {
    const response = await fetch(gatewayUrl, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: requestBody(PAGES_QUERY, { after }, byHash),
    });
    const body = (await response.json()) as { data?: { users: { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } };
    const users = body.data?.users;
    assert.ok(users, `listing the pages failed: ${JSON.stringify(body).slice(0, 300)}`);
    if (users.edges.length < 20) break;
    cursors.push(after);
    if (!users.pageInfo.hasNextPage || users.pageInfo.endCursor === null) break;
    after = users.pageInfo.endCursor;
  }
  assert.ok(cursors.length > 0, "no full page of 20 users: seed more users");
  return cursors;
}
