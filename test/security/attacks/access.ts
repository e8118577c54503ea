// Reading what the token does not cover: another person, another client's people, a field its
// scopes do not reach (through aliases, fragments, @include/@skip, _entities, subscriptions), a
// filter argument that reveals a scoped value, and _service.
import { bearer, CONSENT_TEXT_VERSION } from "../../../testkit/tokens.ts";
import { allErrors, at, both, dataOf, errorsOf, noData, refused, type Attack, type Expectation, type Outcome } from "../attack.ts";
import type { SecurityContext } from "../context.ts";
import { closeCode, noSubscriptionData, once } from "../shared.ts";

const UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE";

/** 200, the field at `path` null, and every error UNAUTHORIZED_FIELD_OR_TYPE. */
function unauthorizedAt(...path: (string | number)[]): Expectation {
  return {
    status: 200,
    code: UNAUTHORIZED,
    means: `200, ${path.join(".")} null with ${UNAUTHORIZED}`,
    check: both(allErrors(UNAUTHORIZED), (outcome) => (at(outcome, ...path) == null ? undefined : `${path.join(".")} came back: ${JSON.stringify(at(outcome, ...path))}`)),
  };
}

/** The data holds nothing but nulls and empty lists where a person's data would be. */
function revealsNothing(outcome: Outcome): string | undefined {
  const text = JSON.stringify(dataOf(outcome) ?? null);
  return /"(balance|score|band|amount|issuer|intent|transcript)":\s*(?!null)/.test(text) ? `data came back: ${text.slice(0, 200)}` : undefined;
}

const asA = (ctx: SecurityContext) => bearer(ctx.tokens.a);
const debtsOnly = (ctx: SecurityContext) => bearer(ctx.tokens.aDebtsOnly);
const entities = (inner: string) => `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { ${inner} } } }`;

/** A partner (client-credentials) token of the demo client holding debts.read only. */
const partnerDebtsOnly = once(async (ctx: SecurityContext) => {
  const answer = await ctx.rest("POST", "/v1/auth/token", { headers: ctx.clients.demo.basic, form: { grant_type: "client_credentials", scope: "debts.read" } });
  if (answer.status !== 200) throw new Error(`partner token: ${answer.status} ${JSON.stringify(answer.body)}`);
  return (answer.body as { access_token: string }).access_token;
});

const crossPerson: Attack[] = [
  {
    id: "cross-person/subscribe-other-user",
    class: "cross-person",
    description: "person A's consent token subscribes to B's alerts (alertCreated(userId: B))",
    run: (ctx) => closeCode(ctx, { authorization: `Bearer ${ctx.tokens.a}` }, `subscription { alertCreated(userId: "${ctx.people.b}") { id user { id } } }`, 1_500),
    expect: { status: 0, code: "FORBIDDEN", means: "the subscription refused, no result", check: noSubscriptionData },
  },
  {
    id: "cross-client/subscribe-unconsented",
    class: "cross-client",
    description: "the second sandbox client's token subscribes to person A's alerts (no consent to it)",
    run: (ctx) => closeCode(ctx, { authorization: `Bearer ${ctx.tokens.second}` }, `subscription { alertCreated(userId: "${ctx.people.a}") { id } }`, 1_500),
    expect: { status: 0, code: null, means: "a person the client cannot see is one who does not exist: subscribed to nothing, no result", check: noSubscriptionData },
  },
  {
    id: "cross-person/subgraph-receipts-extension",
    class: "cross-person",
    description: "a read at a subgraph port shows no internal receipts extension (issue 16, cause 5)",
    run: (ctx) => ctx.gql(ctx.subgraphUrls.debts!, entities("debts { balance }"), { r: [{ __typename: "User", id: ctx.people.a }] }, asA(ctx)),
    expect: { status: 200, code: null, means: "200, no extensions beside the data", check: (o) => ((o.body as { extensions?: unknown }).extensions === undefined ? undefined : `extensions: ${JSON.stringify((o.body as { extensions?: unknown }).extensions).slice(0, 200)}`) },
    pending: "subgraphs that serve only the gateway (issue 16, cause 5): a subgraph port still shows its kaminaReceipts extension to any caller",
    subgraphPort: true,
  },
  {
    id: "cross-person/user-by-id",
    class: "cross-person",
    description: "person A's consent token asks user(id: B)",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, `query($id: ID!) { user(id: $id) { id debts { balance } wellness { score } } }`, { id: ctx.people.b }, asA(ctx)),
    expect: { status: 200, code: null, means: "200, user null: not yours reads as not there", check: both((o) => (at(o, "user") === null ? undefined : "user came back"), revealsNothing) },
  },
  {
    id: "cross-person/users-list",
    class: "cross-person",
    description: "person A's consent token lists users (a CRM's query)",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, `{ users(first: 50) { totalCount edges { node { id } } } }`, undefined, asA(ctx)),
    expect: { status: 200, code: null, check: (o) => ((at(o, "users", "edges") as { node: { id: string } }[] | undefined)?.every((edge) => edge.node.id === "USR_42891") ? undefined : "someone else came back") },
  },
  {
    id: "cross-person/entities-at-subgraph",
    class: "cross-person",
    description: "person A's consent token asks the debts subgraph port for B's debts through _entities",
    run: (ctx) => ctx.gql(ctx.subgraphUrls.debts!, entities("debts { balance issuer }"), { r: [{ __typename: "User", id: ctx.people.b }] }, asA(ctx)),
    expect: { status: 200, code: UNAUTHORIZED, check: both(allErrors(UNAUTHORIZED), revealsNothing) },
    subgraphPort: true,
  },
  {
    id: "cross-person/alert-user-hop",
    class: "cross-person",
    description: "person A's token walks alerts -> user -> debts hoping to reach someone else",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, `{ me { alerts(first: 20) { user { id } } } }`, undefined, asA(ctx)),
    expect: { status: 200, code: null, check: (o) => (JSON.stringify(dataOf(o)).match(/USR_\w+/g) ?? []).every((id) => id === "USR_42891") ? undefined : "another person's id came back" },
  },
  {
    id: "cross-person/rest-user-id",
    class: "cross-person",
    description: "person A's consent token on GET /v1/debts?user_id=B",
    run: (ctx) => ctx.rest("GET", `/v1/debts?user_id=${ctx.people.b}`, { headers: asA(ctx) }),
    expect: refused.notFound,
  },
  {
    id: "cross-person/run-diagnosis-for-b",
    class: "cross-person",
    description: "person A's consent token runs runDiagnosis(userId: B)",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, `mutation($id: ID) { runDiagnosis(userId: $id) { score } }`, { id: ctx.people.b }, asA(ctx)),
    expect: { status: 200, code: "NOT_FOUND", check: both(noDataOrNull, revealsNothing) },
  },
  {
    id: "cross-person/sandbox-alert-for-b",
    class: "cross-person",
    description: "person A's consent token raises a sandbox alert for B",
    run: (ctx) => ctx.rest("POST", "/v1/sandbox/alerts", { headers: asA(ctx), json: { type: "expense_spike_food", user_id: ctx.people.b } }),
    expect: refused.notFound,
  },
];

function noDataOrNull(outcome: Outcome): string | undefined {
  const data = dataOf(outcome);
  return data == null || Object.values(data).every((value) => value == null) ? undefined : `data came back: ${JSON.stringify(data).slice(0, 200)}`;
}

const crossClient: Attack[] = [
  {
    id: "cross-client/second-reads-a",
    class: "cross-client",
    description: "the second sandbox client (no consent from A) asks user(id: A) with its client token",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, `query($id: ID!) { user(id: $id) { id debts { balance } } }`, { id: ctx.people.a }, bearer(ctx.tokens.second)),
    expect: { status: 200, code: null, means: "200, user null: not yours reads as not there", check: both((o) => (at(o, "user") === null ? undefined : "user came back"), revealsNothing) },
  },
  {
    id: "cross-client/second-lists",
    class: "cross-client",
    description: "the second sandbox client lists users: it has no consents",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, `{ users(first: 50) { totalCount edges { node { id } } } }`, undefined, bearer(ctx.tokens.second)),
    expect: { status: 200, code: null, check: (o) => (at(o, "users", "totalCount") === 0 ? undefined : `totalCount ${String(at(o, "users", "totalCount"))}`) },
  },
  {
    id: "cross-client/live-other-country",
    class: "cross-client",
    description: "the live MX-only client asks for a person of another country",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, `query($id: ID!) { user(id: $id) { id debts { balance } } }`, { id: ctx.people.otherCountry }, bearer(ctx.tokens.live)),
    expect: { status: 200, code: null, means: "200, user null: not yours reads as not there", check: (o) => (at(o, "user") === null ? undefined : "user came back") },
  },
  {
    id: "cross-client/live-consent-other-country",
    class: "cross-client",
    description: "the live MX-only client asks a consent in another country",
    run: (ctx) =>
      ctx.rest("POST", "/v1/auth/consent", {
        headers: ctx.clients.live.basic,
        json: { client_id: ctx.clients.live.id, user_external_id: ctx.people.otherCountry, scopes: ["debts.read"], country: ctx.people.otherCountryCode, consent_text_version: CONSENT_TEXT_VERSION },
      }),
    expect: refused.forbidden,
  },
  {
    id: "cross-client/live-reads-a",
    class: "cross-client",
    description: "the live client (consented by B only) asks user(id: A)",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, `query($id: ID!) { user(id: $id) { id debts { balance } } }`, { id: ctx.people.a }, bearer(ctx.tokens.live)),
    expect: { status: 200, code: null, means: "200, user null: not yours reads as not there", check: (o) => (at(o, "user") === null ? undefined : "user came back") },
  },
  {
    id: "cross-client/live-consent-beyond-grant",
    class: "cross-client",
    description: "the live client's consent token for B (debts, wellness) asks coach sessions and expenses",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, `{ me { id coachSessions { intent } expenses(first: 5) { totalCount } } }`, undefined, bearer(ctx.tokens.liveConsent)),
    expect: { status: 200, code: UNAUTHORIZED, check: both(allErrors(UNAUTHORIZED), (o) => (at(o, "me", "coachSessions") == null && at(o, "me", "expenses") == null ? undefined : "a field came back")) },
  },
  {
    id: "cross-client/read-consent",
    class: "cross-client",
    description: "the second client reads the demo client's consent (GET /v1/consents/{id})",
    run: (ctx) => ctx.rest("GET", `/v1/consents/${ctx.tokens.aConsentId}`, { headers: ctx.clients.second.basic }),
    expect: refused.notFound,
  },
  {
    id: "cross-client/read-receipts",
    class: "cross-client",
    description: "the second client reads the demo client's consent receipts",
    run: (ctx) => ctx.rest("GET", `/v1/consents/${ctx.tokens.aConsentId}/receipts`, { headers: ctx.clients.second.basic }),
    expect: refused.notFound,
  },
  {
    id: "cross-client/revoke-consent",
    class: "cross-client",
    description: "the second client revokes the demo client's consent",
    run: (ctx) => ctx.rest("DELETE", `/v1/consents/${ctx.tokens.bConsentId}`, { headers: ctx.clients.second.basic }),
    expect: refused.notFound,
  },
  {
    id: "cross-client/live-authorises-own-consent",
    class: "cross-client",
    description: "the live client authorises its own consent with the public default app key",
    run: async (ctx) => {
      const asked = await ctx.rest("POST", "/v1/auth/consent", {
        headers: ctx.clients.live.basic,
        json: { client_id: ctx.clients.live.id, user_external_id: ctx.people.a, scopes: ["debts.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
      });
      return ctx.rest("POST", `/v1/consents/${(asked.body as { consent_id: string }).consent_id}/authorise`, { headers: { "x-kamina-app-key": "kamina-app-local-key" } });
    },
    expect: refused.unauthenticated,
  },
  {
    id: "cross-client/live-authorises-with-basic",
    class: "cross-client",
    description: "the live client authorises its own consent with its Basic credentials",
    run: async (ctx) => {
      const asked = await ctx.rest("POST", "/v1/auth/consent", {
        headers: ctx.clients.live.basic,
        json: { client_id: ctx.clients.live.id, user_external_id: ctx.people.a, scopes: ["wellness.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
      });
      return ctx.rest("POST", `/v1/consents/${(asked.body as { consent_id: string }).consent_id}/authorise`, { headers: ctx.clients.live.basic });
    },
    expect: refused.unauthenticated,
  },
  {
    id: "cross-client/token-as-client-credentials",
    class: "cross-client",
    description: "a consent token in place of Basic credentials on GET /v1/consents/{id}",
    run: (ctx) => ctx.rest("GET", `/v1/consents/${ctx.tokens.aConsentId}`, { headers: asA(ctx) }),
    expect: refused.unauthenticated,
  },
  {
    id: "cross-client/exchange-other-consent",
    class: "cross-client",
    description: "the second client exchanges the live client's consent for tokens",
    run: (ctx) => ctx.rest("POST", "/v1/auth/token", { headers: ctx.clients.second.basic, form: { grant_type: "urn:kamina:consent", consent_id: ctx.tokens.liveConsentId } }),
    expect: { status: 400, code: "INVALID_GRANT" },
  },
  {
    id: "cross-client/rest-partner-other-country",
    class: "cross-client",
    description: "the live MX-only client on GET /v1/debts?user_id=<person of another country>",
    run: (ctx) => ctx.rest("GET", `/v1/debts?user_id=${ctx.people.otherCountry}`, { headers: bearer(ctx.tokens.live) }),
    expect: refused.notFound,
  },
  {
    id: "cross-client/rest-second-reads-a",
    class: "cross-client",
    description: "the second sandbox client on GET /v1/diagnosis/latest?user_id=A",
    run: (ctx) => ctx.rest("GET", `/v1/diagnosis/latest?user_id=${ctx.people.a}`, { headers: bearer(ctx.tokens.second) }),
    expect: refused.notFound,
  },
  {
    id: "cross-client/client-scope-not-held",
    class: "cross-client",
    description: "a client-credentials token asking a scope outside the client's licence",
    run: (ctx) => ctx.rest("POST", "/v1/auth/token", { headers: ctx.clients.live.basic, form: { grant_type: "client_credentials", scope: "admin.all" } }),
    expect: refused.forbidden,
  },
];

/** Each trick, sent with person A's debts.read-only token, asking for wellness. */
const FIELD_TRICKS: [name: string, query: string, path: (string | number)[], variables?: Record<string, unknown>][] = [
  ["plain", "{ me { id wellness { score band } } }", ["me", "wellness"]],
  ["alias", "{ me { id w: wellness { score } } }", ["me", "w"]],
  ["alias-shadowing-allowed-name", "{ me { id debts: wellness { score } } }", ["me", "debts"]],
  ["two-aliases", "{ me { a: wellness { score } b: wellness { band } } }", ["me", "a"]],
  ["named-fragment", "{ me { ...F } } fragment F on User { wellness { score } }", ["me", "wellness"]],
  ["inline-fragment", "{ me { ... on User { wellness { score } } } }", ["me", "wellness"]],
  ["nested-fragments", "{ me { ...A } } fragment A on User { ...B } fragment B on User { wellness { band } }", ["me", "wellness"]],
  ["include-true", "{ me { wellness @include(if: true) { score } } }", ["me", "wellness"]],
  ["skip-false", "{ me { wellness @skip(if: false) { score } } }", ["me", "wellness"]],
  ["include-variable", "query($yes: Boolean!) { me { wellness @include(if: $yes) { score } } }", ["me", "wellness"], { yes: true }],
  ["fragment-on-query", "{ ...Q } fragment Q on Query { me { wellness { score } } }", ["me", "wellness"]],
  ["user-by-own-id", `{ user(id: "USR_42891") { wellness { score } } }`, ["user", "wellness"]],
  ["history", "{ me { wellnessHistory(months: 12) { score } } }", ["me", "wellnessHistory"]],
  ["savings-goals", "{ me { savingsGoals { name } } }", ["me", "savingsGoals"]],
  ["coach-sessions", "{ me { coachSessions { intent } } }", ["me", "coachSessions"]],
  ["alerts", "{ me { alerts { type } } }", ["me", "alerts"]],
  ["income", "{ me { incomeStreams { kind } } }", ["me", "incomeStreams"]],
  ["expenses", "{ me { expenses(first: 5) { totalCount } } }", ["me", "expenses"]],
  ["alias-expenses-mixed", "{ me { debts { id } e: expenses(first: 1) { totalCount } } }", ["me", "e"]],
];

const fieldScope: Attack[] = [
  ...FIELD_TRICKS.map(([name, query, path, variables]): Attack => ({
    id: `field-scope/${name}`,
    class: "field-scope",
    description: `debts.read-only token: ${query}`,
    run: (ctx) => ctx.gql(ctx.graphqlUrl, query, variables, debtsOnly(ctx)),
    expect: unauthorizedAt(...path),
  })),
  {
    id: "field-scope/transcript",
    class: "field-scope",
    description: "coach.read without coach.transcripts.read asks coach sessions' raw transcript",
    run: async (ctx) => {
      const answer = await ctx.rest("POST", "/v1/auth/consent", {
        headers: ctx.clients.demo.basic,
        json: { client_id: ctx.clients.demo.id, user_external_id: ctx.people.a, scopes: ["coach.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
      });
      return ctx.gql(ctx.graphqlUrl, "{ me { coachSessions { intent transcript } } }", undefined, bearer((answer.body as { access_token: string }).access_token));
    },
    expect: { status: 200, code: UNAUTHORIZED, check: both(allErrors(UNAUTHORIZED), (o) => ((at(o, "me", "coachSessions") as { transcript: unknown }[] | null)?.every((session) => session?.transcript == null) ?? true ? undefined : "a transcript came back")) },
  },
  {
    id: "field-scope/entities-at-gateway",
    class: "field-scope",
    description: "_entities asked at the gateway",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, entities("wellness { score }"), { r: [{ __typename: "User", id: "USR_42891" }] }, debtsOnly(ctx)),
    expect: { status: 400, code: "GRAPHQL_VALIDATION_FAILED", check: noData },
  },
  {
    id: "field-scope/service-at-gateway",
    class: "field-scope",
    description: "_service { sdl } asked at the gateway",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, "{ _service { sdl } }", undefined, debtsOnly(ctx)),
    expect: { status: 400, code: "GRAPHQL_VALIDATION_FAILED", check: noData },
  },
  ...(["wellness", "coach", "expenses", "alerts"] as const).map((subgraph): Attack => ({
    id: `field-scope/entities-at-${subgraph}`,
    class: "field-scope",
    description: `debts.read-only token asks the ${subgraph} subgraph port for person A's ${subgraph} fields through _entities`,
    run: (ctx) =>
      ctx.gql(
        ctx.subgraphUrls[subgraph]!,
        entities({ wellness: "wellness { score }", coach: "coachSessions { intent }", expenses: "expenses(first: 1) { totalCount }", alerts: "alerts { type }" }[subgraph]),
        { r: [{ __typename: "User", id: "USR_42891" }] },
        debtsOnly(ctx),
      ),
    expect: { status: 200, code: UNAUTHORIZED, check: both(allErrors(UNAUTHORIZED), revealsNothing) },
    subgraphPort: true,
  })),
  ...(["wellness", "debts"] as const).map((subgraph): Attack => ({
    id: `field-scope/service-at-${subgraph}`,
    class: "field-scope",
    description: `_service { sdl } at the ${subgraph} subgraph port with a partner's consent token`,
    run: (ctx) => ctx.gql(ctx.subgraphUrls[subgraph]!, "{ _service { sdl } }", undefined, debtsOnly(ctx)),
    expect: { status: 403, code: "FORBIDDEN", check: noData },
    pending: "subgraphs that serve only the gateway (requests signed by it; issue 16, cause 5): a partner's token at a subgraph port still reads _service",
    subgraphPort: true,
  })),
  {
    id: "field-scope/subscription-without-alerts-read",
    class: "field-scope",
    description: "a debts.read-only token subscribes to alertCreated",
    run: (ctx) => closeCode(ctx, { authorization: `Bearer ${ctx.tokens.aDebtsOnly}` }, "subscription { alertCreated { id type } }", 1_500),
    expect: { status: 0, code: UNAUTHORIZED, means: "the subscription answered with the refusal and completed, no data", check: noSubscriptionData },
  },
  {
    id: "field-scope/subscription-alias",
    class: "field-scope",
    description: "a debts.read-only token subscribes to alertCreated under an alias",
    run: (ctx) => closeCode(ctx, { authorization: `Bearer ${ctx.tokens.aDebtsOnly}` }, "subscription { a: alertCreated { id } }", 1_500),
    expect: { status: 0, code: UNAUTHORIZED, means: "the subscription answered with the refusal and completed, no data", check: noSubscriptionData },
  },
  {
    id: "field-scope/subscription-fragment",
    class: "field-scope",
    description: "a debts.read-only token subscribes to alertCreated through a fragment",
    run: (ctx) => closeCode(ctx, { authorization: `Bearer ${ctx.tokens.aDebtsOnly}` }, "subscription { ...S } fragment S on Subscription { alertCreated { id } }", 1_500),
    expect: { status: 0, code: "BAD_REQUEST", means: "a root fragment is not a subscription the gateway runs: refused, no data", check: noSubscriptionData },
  },
];

const REFUSED_FILTER = "Unauthorized field or type: Query.users(band:) needs wellness.read";
const bandRefused: Expectation = {
  status: 200,
  code: UNAUTHORIZED,
  means: "200, data null, the band filter refused",
  check: (outcome) => (dataOf(outcome) === null && errorsOf(outcome)[0]?.message === REFUSED_FILTER ? undefined : `not the band refusal: ${JSON.stringify(outcome.body).slice(0, 200)}`),
};

const argumentScopes: Attack[] = [
  ...(
    [
      ["consent-token", (ctx: SecurityContext) => Promise.resolve(ctx.tokens.aDebtsOnly), "{ users(band: RED) { totalCount } }", undefined],
      ["partner-token", partnerDebtsOnly, "{ users(band: RED) { totalCount } }", undefined],
      ["partner-alias", partnerDebtsOnly, "{ n: users(band: AMBER) { totalCount } }", undefined],
      ["partner-fragment", partnerDebtsOnly, "{ ...C } fragment C on Query { users(band: GREEN) { totalCount } }", undefined],
      ["partner-inline", partnerDebtsOnly, "{ ... on Query { users(band: RED) { totalCount } } }", undefined],
      ["partner-variable", partnerDebtsOnly, "query($b: WellnessBand) { users(band: $b) { totalCount } }", { b: "RED" }],
      ["partner-default-variable", partnerDebtsOnly, "query($b: WellnessBand = RED) { users(band: $b) { totalCount } }", undefined],
      ["partner-include", partnerDebtsOnly, "{ users(band: RED) @include(if: true) { totalCount } }", undefined],
    ] as const
  ).map(([name, token, query, variables]): Attack => ({
    id: `argument-scope/band-${name}`,
    class: "argument-scope",
    description: `users(band:) with debts.read only (${name})`,
    run: async (ctx) => ctx.gql(ctx.graphqlUrl, query, variables, bearer(await token(ctx))),
    expect: name === "partner-alias" ? { ...bandRefused, check: (o) => (dataOf(o) === null && errorsOf(o)[0]?.extensions?.code === UNAUTHORIZED ? undefined : "not refused") } : bandRefused,
  })),
  {
    id: "argument-scope/band-at-wellness-port",
    class: "argument-scope",
    description: "users(band:) with debts.read only, at the wellness subgraph port",
    run: (ctx) => ctx.gql(ctx.subgraphUrls.wellness!, "{ users(band: RED) { totalCount } }", undefined, debtsOnly(ctx)),
    expect: { status: 200, code: UNAUTHORIZED, check: noDataOrNull },
    subgraphPort: true,
  },
  {
    id: "argument-scope/min-severity",
    class: "argument-scope",
    description: "alertCreated(minSeverity:) with debts.read only, over graphql-ws",
    run: (ctx) => closeCode(ctx, { authorization: `Bearer ${ctx.tokens.aDebtsOnly}` }, "subscription { alertCreated(minSeverity: HIGH) { id } }", 1_500),
    expect: { status: 0, code: UNAUTHORIZED, means: "the subscription answered with the refusal and completed, no data", check: noSubscriptionData },
  },
  {
    id: "argument-scope/rest-band",
    class: "argument-scope",
    description: "GET /v1/debts?band=RED with a debts.read partner token (a filter the route does not take)",
    run: async (ctx) => ctx.rest("GET", "/v1/debts?band=RED", { headers: bearer(await partnerDebtsOnly(ctx)) }),
    expect: refused.badInput,
  },
];

export const attacks: Attack[] = [...crossPerson, ...crossClient, ...fieldScope, ...argumentScopes];
