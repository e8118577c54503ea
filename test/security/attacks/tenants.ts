// Crossing tenants (issue 16, item 5): the live client is licensed in MX only, and a person of
// another country must stay out of its reach on every path; underneath, the application role
// bound to MX must not read or write another country's rows whatever SQL it sends.
import pg from "pg";
import { PairwiseIds } from "../../../platform/auth/pairwise-ids.ts";
import { bearer } from "../../../testkit/tokens.ts";
import { dataOf, type Attack, type Outcome } from "../attack.ts";
import type { SecurityContext } from "../context.ts";

const asLive = (ctx: SecurityContext) => bearer(ctx.tokens.live);
/** The other country's person under the id the live client would have for them (its pairwise id). */
const otherAsLiveSees = (ctx: SecurityContext) => new PairwiseIds(ctx.kamina.gateway!.auth.config.tokens.pairwiseIdKey).external(ctx.clients.live.id, "live", ctx.people.otherCountry);

/** Runs `statement` on a connection of the application role bound to MX, as the subgraphs bind theirs. */
async function asMxApp(ctx: SecurityContext, statement: string, values: unknown[]): Promise<Outcome> {
  const url = (ctx.kamina.database as { url: string }).url;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT set_config('role', 'kamina_app', false), set_config('kamina.tenants', '{MX}', false)");
    await client.query("BEGIN");
    const result = await client.query(statement, values);
    return { status: 200, code: null, body: { rowCount: result.rowCount, rows: result.rows } };
  } catch (error) {
    return { status: 403, code: (error as { code?: string }).code ?? "?", note: (error as Error).message };
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
    await client.end();
  }
}

const touchedNothing = (outcome: Outcome) => {
  const body = outcome.body as { rowCount?: number } | undefined;
  return body?.rowCount === 0 ? undefined : `touched ${body?.rowCount} rows: ${JSON.stringify(body).slice(0, 200)}`;
};

export const attacks: Attack[] = [
  {
    id: "tenants/user-of-another-country",
    class: "tenants",
    description: "the MX-only live client reads user(id:) of a person in another country",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, "query ($id: ID!) { user(id: $id) { id country debts { balance } } }", { id: otherAsLiveSees(ctx) }, asLive(ctx)),
    expect: { status: 200, code: null, means: "200, user null: a person of another tenant does not exist for it", check: (o) => ((dataOf(o) as { user?: unknown } | null)?.user == null ? undefined : `user came back: ${JSON.stringify(dataOf(o))}`) },
  },
  {
    id: "tenants/rest-debts-of-another-country",
    class: "tenants",
    description: "the MX-only live client reads GET /v1/debts?user_id={the other country's person}",
    run: (ctx) => ctx.rest("GET", `/v1/debts?user_id=${otherAsLiveSees(ctx)}`, { headers: asLive(ctx) }),
    expect: { status: 404, code: "NOT_FOUND", means: "404: no such person for this client" },
  },
  {
    id: "tenants/users-listing",
    class: "tenants",
    description: "the MX-only live client lists users() and looks for the other country's person",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, "{ users(first: 100) { edges { node { id country } } } }", {}, asLive(ctx)),
    expect: {
      status: 200,
      code: null,
      means: "200, only MX people",
      check: (o) => {
        const text = JSON.stringify(dataOf(o));
        return /"country":"(?!MX)/.test(text) ? `a person of another country: ${text.slice(0, 200)}` : undefined;
      },
    },
  },
  {
    id: "tenants/sql-read-other-country",
    class: "tenants",
    description: "as the application role bound to MX, SELECT the other country's person and their debts by id",
    run: (ctx) => asMxApp(ctx, "SELECT u.id, d.balance FROM app_user u LEFT JOIN debt d ON d.user_id = u.id WHERE u.id = $1", [ctx.people.otherCountry]),
    expect: { status: 200, code: null, means: "no rows: invisible", check: touchedNothing },
  },
  {
    id: "tenants/sql-update-other-country",
    class: "tenants",
    description: "as the application role bound to MX, UPDATE the other country's person's debts",
    run: (ctx) => asMxApp(ctx, "UPDATE debt SET balance = 0 WHERE user_id = $1", [ctx.people.otherCountry]),
    expect: { status: 200, code: null, means: "0 rows updated", check: touchedNothing },
  },
  {
    id: "tenants/sql-delete-other-country",
    class: "tenants",
    description: "as the application role bound to MX, DELETE the other country's person",
    run: (ctx) => asMxApp(ctx, "DELETE FROM app_user WHERE id = $1", [ctx.people.otherCountry]),
    expect: { status: 200, code: null, means: "0 rows deleted", check: touchedNothing },
  },
  {
    id: "tenants/sql-insert-other-country",
    class: "tenants",
    description: "as the application role bound to MX, INSERT an alert for the other country's person",
    run: (ctx) =>
      asMxApp(ctx, "INSERT INTO alert (id, user_id, country, type, risk_band, severity, suggested_action) VALUES ('al_sec_rls', $1, $2, 'x', 'RED', 'LOW', 'x')", [ctx.people.otherCountry, ctx.people.otherCountryCode]),
    expect: { status: 403, code: "42501", means: "refused by the row-level security policy" },
  },
  {
    id: "tenants/sql-rebind-to-everything",
    class: "tenants",
    description: "as the application role bound to MX, turn row-level security off on app_user",
    run: (ctx) => asMxApp(ctx, "ALTER TABLE app_user DISABLE ROW LEVEL SECURITY", []),
    expect: { status: 403, code: "42501", means: "refused: the application role owns nothing" },
  },
  {
    id: "tenants/entities-of-another-country",
    class: "tenants",
    description: "the MX-only live client's consent token asks _entities (at the gateway) for the other country's person",
    run: (ctx) => ctx.gql(ctx.graphqlUrl, `query ($r: [_Any!]!) { _entities(representations: $r) { ... on User { id debts { balance } } } }`, { r: [{ __typename: "User", id: ctx.people.otherCountry }] }, bearer(ctx.tokens.liveConsent)),
    expect: { status: 400, code: "GRAPHQL_VALIDATION_FAILED", means: "400: the gateway has no _entities" },
  },
];
