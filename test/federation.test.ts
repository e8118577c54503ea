import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { startSeededKamina, stopSeededKamina } from "./support/seeded-kamina.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { bearer, clientToken, consentToken, DEMO_CLIENT } from "../testkit/tokens.ts";
import { gatewaySignatureHeader } from "../testkit/gateway-signature.ts";
import { countStatements, postGraphQL, startTestKamina, type GraphQLResponse } from "./support/kamina.ts";

const EVERYTHING = /* GraphQL */ `
  fragment Everything on User {
    id
    country
    wellness { score band trend30d factors { name weight value } actionPlan { code title expectedScoreDelta } computedAt nextReviewAt }
    wellnessHistory(months: 12) { date score band }
    savingsGoals { id kind targetAmount currentAmount currency progress status }
    debts { id issuer type principal balance currency apr dueDate status missedPayments }
    debtSummary { totals { currency balance minimumPayment } openCount overdueCount weightedApr nextDueDate }
    expenses(first: 5) { totalCount edges { cursor node { id amount currency mcc category merchant occurredAt } } pageInfo { hasNextPage endCursor } }
    incomeStreams { id source kind monthlyAmount currency }
    coachSessions { id intent sentiment sentimentLabel messageCount }
    alerts { id type riskBand severity contributingFactors suggestedAction createdAt }
  }
`;

/**
 * A partner's page mixes people who granted different scopes: the fields a person did not
 * grant come back null with UNAUTHORIZED_FIELD_OR_TYPE (test/partner-access.test.ts checks which).
 */
function assertOnlyUnauthorizedFields(errors: GraphQLResponse["body"]["errors"]): void {
  for (const error of errors ?? []) assert.equal(error.extensions?.code, "UNAUTHORIZED_FIELD_OR_TYPE", JSON.stringify(error));
}

const PAGE_OF_USERS = `query Page($first: Int, $after: String) { users(first: $first, after: $after) { totalCount edges { cursor node { ...Everything } } pageInfo { hasNextPage endCursor } } } ${EVERYTHING}`;

describe("the federated graph over real PostgreSQL", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;
  let asDemoUser: Record<string, string>;
  let asPartner: Record<string, string>;

  before(async () => {
    ({ database, kamina, sql } = await startSeededKamina({ users: 300, seed: 7, poolSize: 4 }));
    asDemoUser = bearer(await consentToken(kamina, "USR_42891"));
    asPartner = bearer(await clientToken(kamina));
  });

  after(async () => {
    await stopSeededKamina({ database, kamina, sql });
  });

  test("one query reads fields from all five subgraphs for one user", async () => {
    const { status, body } = await postGraphQL(kamina.graphqlUrl, `query One($id: ID!) { user(id: $id) { ...Everything } } ${EVERYTHING}`, { id: "USR_42891" }, asDemoUser);
    assert.equal(status, 200);
    assert.equal(body.errors, undefined);
    const user = body.data!.user;
    assert.equal(user.id, "USR_42891");
    assert.equal(user.country, "MX");

    // The brief's demo household, as its JSON examples show it.
    assert.equal(user.wellness.score, 64);
    assert.equal(user.wellness.band, "AMBER");
    assert.equal(user.wellness.trend30d, -3);
    const weights = user.wellness.factors.reduce((sum: number, factor: { weight: number }) => sum + factor.weight, 0);
    assert.ok(Math.abs(weights - 1) < 1e-9, `factor weights sum to ${weights}`);
    const card = user.debts.find((debt: { issuer: string }) => debt.issuer === "BBVA México");
    assert.deepEqual({ balance: card.balance, apr: card.apr, type: card.type, currency: card.currency }, { balance: "12480.55", apr: 0.42, type: "CREDIT_CARD", currency: "MXN" });

    // Every list matches what the database holds for that user.
    const counts = await sql.query<{ debts: number; goals: number; income: number; coach: number; alerts: number; expenses: number; snapshots: number }>(
      `SELECT (SELECT count(*)::int FROM debt WHERE user_id = $1) AS debts,
              (SELECT count(*)::int FROM savings_goal WHERE user_id = $1) AS goals,
              (SELECT count(*)::int FROM income_stream WHERE user_id = $1) AS income,
              (SELECT count(*)::int FROM coach_session WHERE user_id = $1) AS coach,
              (SELECT count(*)::int FROM alert WHERE user_id = $1) AS alerts,
              (SELECT count(*)::int FROM expense WHERE user_id = $1) AS expenses,
              (SELECT count(*)::int FROM wellness_snapshot WHERE user_id = $1) AS snapshots`,
      ["USR_42891"],
    );
    const expected = counts.rows[0]!;
    assert.equal(user.debts.length, expected.debts);
    assert.equal(user.savingsGoals.length, expected.goals);
    assert.equal(user.incomeStreams.length, expected.income);
    assert.equal(user.coachSessions.length, expected.coach);
    assert.equal(user.alerts.length, Math.min(expected.alerts, 20));
    assert.equal(user.expenses.totalCount, expected.expenses);
    assert.equal(user.expenses.edges.length, Math.min(5, expected.expenses));
    // A point per day of the last 12 months (the seed wrote 365), newest today's diagnosis.
    const history = user.wellnessHistory as { date: string; score: number; band: string }[];
    assert.ok(history.length >= 360 && history.length <= 366, `${history.length} daily points`);
    assert.ok(expected.snapshots > 0);
    const days = history.map((point) => Date.parse(point.date) / 86_400_000);
    assert.ok(days.every((day, i) => i === 0 || day === days[i - 1]! + 1), "one point per consecutive day");
    assert.equal(history.at(-1)?.score, user.wellness.score);
    const dates = user.expenses.edges.map((edge: { node: { occurredAt: string } }) => edge.node.occurredAt);
    assert.deepEqual(dates, [...dates].sort().reverse(), "expenses come newest first");
  });

  test("a partner's users(country:) lists only that country's consented people, and counts them", async () => {
    const query = "query ($country: Country, $after: String) { users(first: 100, after: $after, country: $country) { totalCount pageInfo { hasNextPage endCursor } edges { node { id country } } } }";
    const everyone: { id: string; country: string }[] = [];
    for (let after: string | null = null, more = true; more; ) {
      const page: GraphQLResponse = await postGraphQL(kamina.graphqlUrl, query, { after }, asPartner);
      everyone.push(...page.body.data!.users.edges.map((edge: { node: { id: string; country: string } }) => edge.node));
      ({ hasNextPage: more, endCursor: after } = page.body.data!.users.pageInfo);
    }
    const mexico = await postGraphQL(kamina.graphqlUrl, query, { country: "MX" }, asPartner);
    assert.equal(mexico.body.errors, undefined, JSON.stringify(mexico.body.errors));
    const nodes = mexico.body.data!.users.edges.map((edge: { node: { id: string; country: string } }) => edge.node);
    const expected = everyone.filter((node) => node.country === "MX");
    assert.ok(expected.length > 0);
    assert.equal(mexico.body.data!.users.totalCount, expected.length);
    assert.deepEqual(nodes.map((node: { id: string }) => node.id), expected.slice(0, 100).map((node) => node.id));
    const wrong = await postGraphQL(kamina.graphqlUrl, query, { country: "US" }, asPartner);
    assert.equal(wrong.body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });

  test("@apollo/gateway's own telemetry to Apollo's servers is off", () => {
    assert.equal(process.env.APOLLO_TELEMETRY_DISABLED, "true");
  });

  test("no shared cache may keep an answer: the gateway and every subgraph say no-store", async () => {
    const query = JSON.stringify({ query: "{ me { id wellness { score } } }" });
    for (const url of [kamina.graphqlUrl, kamina.subgraphs.wellness!.url]) {
      const signed = url === kamina.graphqlUrl ? {} : gatewaySignatureHeader(kamina, { url, body: query });
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...asDemoUser, ...signed }, body: query });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("cache-control"), "no-store", url);
      await response.arrayBuffer();
    }
  });

  test("a page of users costs the same SQL statements per subgraph for 10 users as for 100", async () => {
    const page = (first: number) =>
      countStatements(kamina, async () => {
        const { body } = await postGraphQL(kamina.graphqlUrl, PAGE_OF_USERS, { first }, asPartner);
        assertOnlyUnauthorizedFields(body.errors);
        assert.equal(body.data!.users.edges.length, first);
      });
    // Any change to the client's consents moves its version: no subgraph then keeps any of its people's grants.
    const forgetGrants = () => sql.query("UPDATE partner_client SET consent_version = consent_version + 1 WHERE id = $1", [DEMO_CLIENT]);
    await forgetGrants();
    const small = await page(10);
    await forgetGrants();
    const large = await page(100);
    assert.deepEqual(large, small, `statements per subgraph, no grants kept: 10 users ${JSON.stringify(small)}, 100 users ${JSON.stringify(large)}`);
    // Per subgraph: the token check, the partner's consents of the page's people (one batch), then its reads.
    for (const [subgraph, statements] of Object.entries(large)) {
      assert.ok(statements >= 1 && statements <= 7, `${subgraph} sent ${statements} statements for 100 users`);
    }
    // Once their grants are kept (the version unchanged), a page of them reads no consent at all.
    const smallAgain = await page(10);
    const largeAgain = await page(100);
    assert.deepEqual(largeAgain, smallAgain, `statements per subgraph, grants kept: 10 users ${JSON.stringify(smallAgain)}, 100 users ${JSON.stringify(largeAgain)}`);
    for (const [subgraph, statements] of Object.entries(largeAgain)) assert.ok(statements < large[subgraph]!, `${subgraph}: ${statements} statements with the grants kept, ${large[subgraph]} without`);
  });

  test("a person and their wellness come from one wellness statement, the same as a page of people reads it", async () => {
    const ONE = `query One($id: ID!) { user(id: $id) { id wellness { score band trend30d factors { name weight value } actionPlan { code } computedAt nextReviewAt } } }`;
    let one: GraphQLResponse | undefined;
    const statements = await countStatements(kamina, async () => {
      one = await postGraphQL(kamina.graphqlUrl, ONE, { id: "USR_42891" }, asDemoUser);
    });
    assert.equal(one?.body.errors, undefined, JSON.stringify(one?.body.errors));
    assert.equal(statements.wellness, 1, `statements per subgraph: ${JSON.stringify(statements)}`);

    // The page reads snapshots by themselves (latestSnapshots): both roads give the same person.
    let after: string | null = null;
    let fromPage: unknown;
    while (fromPage === undefined) {
      const { body }: GraphQLResponse = await postGraphQL(
        kamina.graphqlUrl,
        `query($after: String) { users(first: 100, after: $after) { edges { node { id wellness { score band trend30d factors { name weight value } actionPlan { code } computedAt nextReviewAt } } } pageInfo { hasNextPage endCursor } } }`,
        { after },
        asPartner,
      );
      const page: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = body.data!.users;
      fromPage = page.edges.find((edge) => edge.node.id === "USR_42891")?.node;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    assert.ok(one?.body.data!.user.wellness, "the demo person has a wellness snapshot");
    assert.deepEqual(one?.body.data!.user, fromPage);
  });

  /**
   * The first page of `query` read twice as the partner: the statements of the second read (the
   * partner's consents of these people are kept by then, the page's reads remain), whose answer
   * must be the first's, with no error but fields the scopes withhold.
   */
  const secondReadOfPage = async (query: string): Promise<{ page: GraphQLResponse; statements: Record<string, number> }> => {
    const { body: warm } = await postGraphQL(kamina.graphqlUrl, query, { after: null }, asPartner);
    let page: GraphQLResponse | undefined;
    const statements = await countStatements(kamina, async () => {
      page = await postGraphQL(kamina.graphqlUrl, query, { after: null }, asPartner);
    });
    assertOnlyUnauthorizedFields(page?.body.errors);
    assert.deepEqual(page?.body, warm);
    return { page: page!, statements };
  };

  test("a page of people with their wellness is one wellness statement", async () => {
    const { page, statements } = await secondReadOfPage(`query($after: String) { users(first: 30, after: $after) { edges { node { id wellness { score band computedAt } } } } }`);
    assert.equal(statements.wellness, 1, `statements per subgraph: ${JSON.stringify(statements)}`);
    const nodes: { id: string; wellness: { score: number } | null }[] = page.body.data!.users.edges.map((edge: { node: unknown }) => edge.node);
    assert.ok(nodes.some((node) => node.wellness !== null));
    // The same people read one by one (user(id:), its own statement) have the same wellness.
    const one = await postGraphQL(kamina.graphqlUrl, `query($id: ID!) { user(id: $id) { id wellness { score band computedAt } } }`, { id: nodes.find((node) => node.wellness !== null)!.id }, asPartner);
    assert.deepEqual(one.body.data!.user, nodes.find((node) => node.wellness !== null));
  });

  test("a page of people's expenses with their totalCount is one expenses statement, and counts what the filter matches", async () => {
    const { page, statements } = await secondReadOfPage(`query($after: String) { users(first: 30, after: $after) { edges { node { id expenses(first: 3) { totalCount edges { node { id amount occurredAt } } } } } } }`);
    assert.equal(statements.expenses, 1, `statements per subgraph: ${JSON.stringify(statements)}`);
    type Expenses = { totalCount: number; edges: { node: { id: string } }[] } | null;
    const nodes: { id: string; expenses: Expenses }[] = page.body.data!.users.edges.map((edge: { node: unknown }) => edge.node);
    const someone = nodes.find((node) => (node.expenses?.totalCount ?? 0) > 3)!;
    assert.ok(someone, "someone on the page has more than a page of expenses");
    const { rows } = await sql.query<{ count: number }>("SELECT count(*)::int AS count FROM expense WHERE user_id = $1", [someone.id]);
    assert.equal(someone.expenses!.totalCount, rows[0]!.count);
    assert.equal(someone.expenses!.edges.length, 3);
  });

  test("a person with no wellness snapshot reads wellness null", async () => {
    const userId = "USR_WITHOUT_SNAPSHOT";
    await sql.query(`INSERT INTO app_user (id, country) VALUES ($1, 'MX')`, [userId]);
    const token = bearer(await consentToken(kamina, userId));
    const { body } = await postGraphQL(kamina.graphqlUrl, `query($id: ID!) { user(id: $id) { id wellness { score } } me { id } }`, { id: userId }, token);
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.deepEqual(body.data, { user: { id: userId, wellness: null }, me: { id: userId } });
  });

  test("cursor pagination walks every user once, in order", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let totalCount = 0;
    for (let page = 0; page < 10; page++) {
      const { body }: GraphQLResponse = await postGraphQL(kamina.graphqlUrl, `query($after: String) { users(first: 40, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`, { after }, asPartner);
      assert.equal(body.errors, undefined);
      const users = body.data!.users;
      totalCount = users.totalCount;
      seen.push(...users.edges.map((edge: { node: { id: string } }) => edge.node.id));
      if (!users.pageInfo.hasNextPage) break;
      after = users.pageInfo.endCursor;
    }
    // A partner token reaches only the people who hold an authorised consent for its client.
    const inDatabase = await sql.query<{ id: string }>(
      `SELECT u.id FROM app_user u
       WHERE EXISTS (SELECT 1 FROM consent c WHERE c.user_id = u.id AND c.client_id = 'of_lab_demo' AND c.status = 'AUTHORISED'
                     AND (c.expires_at IS NULL OR c.expires_at > now()))
       ORDER BY u.id`,
    );
    assert.ok(inDatabase.rowCount! > 40 && inDatabase.rowCount! < 300, `the seed gives about half of the users a consent, got ${inDatabase.rowCount}`);
    assert.equal(totalCount, inDatabase.rowCount);
    assert.deepEqual(seen, inDatabase.rows.map((row) => row.id));
  });

  test("users can be filtered by their latest wellness band", async () => {
    const { body } = await postGraphQL(kamina.graphqlUrl, `{ users(first: 100, band: RED) { totalCount edges { node { id wellness { band } } } } }`, {}, asPartner);
    assert.equal(body.errors, undefined);
    const users = body.data!.users;
    assert.ok(users.edges.length > 0, "the seed has RED users");
    for (const edge of users.edges) assert.equal(edge.node.wellness.band, "RED");
    assert.equal(users.totalCount >= users.edges.length, true);
  });

  test("expenses page by cursor and filter by date and category", async () => {
    const query = `query($id: ID!, $after: String, $category: String) { user(id: $id) { expenses(first: 7, after: $after, category: $category) { totalCount edges { node { id category occurredAt } } pageInfo { hasNextPage endCursor } } } }`;
    const ids: string[] = [];
    let after: string | null = null;
    let totalCount = 0;
    do {
      const { body }: GraphQLResponse = await postGraphQL(kamina.graphqlUrl, query, { id: "USR_42891", after, category: null }, asDemoUser);
      assert.equal(body.errors, undefined);
      const page = body.data!.user.expenses;
      totalCount = page.totalCount;
      ids.push(...page.edges.map((edge: { node: { id: string } }) => edge.node.id));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    assert.equal(ids.length, totalCount);
    assert.equal(new Set(ids).size, ids.length, "no expense appears twice");

    const { rows } = await sql.query<{ category: string; count: number }>(
      "SELECT category, count(*)::int AS count FROM expense WHERE user_id = $1 GROUP BY category ORDER BY count DESC LIMIT 1",
      ["USR_42891"],
    );
    const top = rows[0]!;
    const { body } = await postGraphQL(kamina.graphqlUrl, query, { id: "USR_42891", category: top.category }, asDemoUser);
    assert.equal(body.data!.user.expenses.totalCount, top.count);
    for (const edge of body.data!.user.expenses.edges) assert.equal(edge.node.category, top.category);

    const window = await sql.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM expense WHERE user_id = $1 AND occurred_at >= CURRENT_DATE - 30 AND occurred_at < CURRENT_DATE - 9",
      ["USR_42891"],
    );
    const day = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10);
    const ranged = await postGraphQL(kamina.graphqlUrl, `query($id: ID!, $from: Date, $to: Date) { user(id: $id) { expenses(from: $from, to: $to) { totalCount } } }`, {
      id: "USR_42891",
      from: day(30),
      to: day(10),
    }, asDemoUser);
    assert.equal(ranged.body.errors, undefined);
    assert.equal(ranged.body.data!.user.expenses.totalCount, window.rows[0]!.count);
  });

  test("a user that does not exist is null, not an error", async () => {
    const { status, body } = await postGraphQL(kamina.graphqlUrl, `{ user(id: "USR_00000000") { id debts { id } } }`, {}, asPartner);
    assert.equal(status, 200);
    assert.equal(body.errors, undefined);
    assert.equal(body.data!.user, null);
  });

  test("/healthz answers 200 when the gateway is ready", async () => {
    const response = await fetch(new URL("/healthz", kamina.graphqlUrl));
    assert.equal(response.status, 200);
  });
});
