import { PairwiseIds } from "../platform/auth/pairwise-ids.ts";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { USER_SCOPES } from "../platform/auth/scopes.ts";
import { StatementBatcher } from "../platform/database/statement-batcher.ts";
import { startSeededKamina, stopSeededKamina } from "./support/seeded-kamina.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { bearer, clientToken } from "../testkit/tokens.ts";
import { countStatements, postGraphQL, startTestKamina, type GraphQLResponse } from "./support/kamina.ts";
import { postAsGateway } from "../testkit/gateway-signature.ts";

const UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE";
const CONSENTED = `
  SELECT u.id FROM app_user u
  WHERE EXISTS (SELECT 1 FROM consent c WHERE c.user_id = u.id AND c.client_id = $1 AND c.status = 'AUTHORISED'
                AND (c.expires_at IS NULL OR c.expires_at > now()))`;

interface Node {
  id: string;
  wellness: { score: number } | null;
  savingsGoals: unknown[] | null;
  debts: unknown[] | null;
  incomeStreams: unknown[] | null;
  alerts: unknown[] | null;
}

const PAGE = `query Page($after: String) {
  users(first: 100, after: $after) {
    totalCount
    edges { node { id wellness { score } savingsGoals { id } debts { id } incomeStreams { id } alerts { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe("partner (client-credentials) tokens reach only consented people, each within their own consent", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;
  let partner: Record<string, string>;

  before(async () => {
    ({ database, kamina, sql } = await startSeededKamina({ users: 120, seed: 5, poolSize: 2 }));
    partner = bearer(await clientToken(kamina));
  });

  after(async () => {
    await stopSeededKamina({ database, kamina, sql });
  });

  async function everyPage(headers: Record<string, string>): Promise<{ nodes: Node[]; totalCount: number; errors: NonNullable<GraphQLResponse["body"]["errors"]>; pages: GraphQLResponse[] }> {
    const nodes: Node[] = [];
    const errors: NonNullable<GraphQLResponse["body"]["errors"]> = [];
    const pages: GraphQLResponse[] = [];
    let after: string | null = null;
    let totalCount = 0;
    do {
      const page: GraphQLResponse = await postGraphQL(kamina.graphqlUrl, PAGE, { after }, headers);
      pages.push(page);
      const users = page.body.data!.users;
      totalCount = users.totalCount;
      nodes.push(...users.edges.map((edge: { node: Node }) => edge.node));
      errors.push(...(page.body.errors ?? []));
      after = users.pageInfo.hasNextPage ? users.pageInfo.endCursor : null;
    } while (after);
    return { nodes, totalCount, errors, pages };
  }

  test("users() lists exactly the people holding an authorised, unexpired consent for the client", async () => {
    const { nodes, totalCount } = await everyPage(partner);
    const expected = await sql.query<{ id: string }>(`${CONSENTED} ORDER BY u.id`, ["of_lab_demo"]);
    const all = await sql.query("SELECT 1 FROM app_user");
    assert.ok(expected.rowCount! > 10 && expected.rowCount! < all.rowCount!, "the seed consents some users, not all");
    assert.deepEqual(nodes.map((node) => node.id), expected.rows.map((row) => row.id));
    assert.equal(totalCount, expected.rowCount);
  });

  test("the band filter still works on the consented people, totalCount included", async () => {
    const { body } = await postGraphQL(kamina.graphqlUrl, `{ users(first: 100, band: RED) { totalCount edges { node { id wellness { band } } } } }`, {}, partner);
    const expected = await sql.query<{ id: string }>(
      `${CONSENTED} AND (SELECT s.band FROM wellness_snapshot s WHERE s.user_id = u.id ORDER BY s.snapshot_date DESC LIMIT 1) = 'RED' ORDER BY u.id`,
      ["of_lab_demo"],
    );
    assert.ok(expected.rowCount! > 0, "some consented people are RED");
    assert.equal(body.data!.users.totalCount, expected.rowCount);
    assert.deepEqual(body.data!.users.edges.map((edge: { node: { id: string } }) => edge.node.id), expected.rows.map((row) => row.id));
    for (const edge of body.data!.users.edges) assert.equal(edge.node.wellness.band, "RED");
  });

  test("people on one page show different fields, each as their own consent allows", async () => {
    const { nodes, pages } = await everyPage(partner);
    const consents = await sql.query<{ user_id: string; scopes: string[] }>(
      "SELECT user_id, scopes FROM consent WHERE client_id = 'of_lab_demo' AND status = 'AUTHORISED'",
    );
    const scopesOf = new Map(consents.rows.map((row) => [row.user_id, new Set(row.scopes)]));
    const fieldScopes = { wellness: "wellness.read", savingsGoals: "goals.read", debts: "debts.read", incomeStreams: "income.read", alerts: "alerts.read" } as const;
    let withheld = 0;
    for (const node of nodes) {
      const granted = scopesOf.get(node.id)!;
      for (const [field, scope] of Object.entries(fieldScopes) as [keyof typeof fieldScopes, string][]) {
        if (granted.has(scope)) assert.notEqual(node[field], null, `${node.id} granted ${scope}: ${field} is returned`);
        else {
          assert.equal(node[field], null, `${node.id} did not grant ${scope}: ${field} is withheld`);
          withheld++;
        }
      }
    }
    assert.ok(withheld > 0, "some consented people granted fewer scopes than others");
    assert.ok(nodes.some((node) => node.incomeStreams !== null) && nodes.some((node) => node.incomeStreams === null), "one page mixes both kinds");

    // Each withheld field is an error at that person's own path.
    for (const page of pages) {
      const edges = page.body.data!.users.edges as { node: Node }[];
      const expected: string[] = [];
      edges.forEach(({ node }, index) => {
        for (const field of Object.keys(fieldScopes) as (keyof typeof fieldScopes)[]) if (node[field] === null) expected.push(`users.edges.${index}.node.${field}`);
      });
      const actual = (page.body.errors ?? []).map((error) => {
        assert.equal(error.extensions?.code, UNAUTHORIZED);
        return error.path!.join(".");
      });
      assert.deepEqual(actual.sort(), expected.sort());
    }
  });

  test("a receipt per person lists the fields returned for that person", async () => {
    const requestId = `partner-receipts-${Date.now()}`;
    const response = await fetch(kamina.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": requestId, ...partner },
      body: JSON.stringify({ query: `{ users(first: 30) { edges { node { id wellness { score } incomeStreams { id } } } } }` }),
    });
    const body = (await response.json()) as GraphQLResponse["body"];
    const receipts = await sql.query<{ user_id: string; consent_id: string; fields: string[]; scopes: string[] }>(
      "SELECT user_id, consent_id, fields, scopes FROM audit_event WHERE request_id = $1 AND action = 'consent.receipt' ORDER BY user_id",
      [requestId],
    );
    const nodes = body.data!.users.edges.map((edge: { node: Node }) => edge.node) as Node[];
    assert.equal(receipts.rowCount, nodes.length, "one receipt per person read");
    const consentIds = await sql.query<{ id: string; user_id: string; scopes: string[] }>(
      "SELECT id, user_id, scopes FROM consent WHERE client_id = 'of_lab_demo' AND status = 'AUTHORISED'",
    );
    const consentOf = new Map(consentIds.rows.map((row) => [row.user_id, row]));
    for (const receipt of receipts.rows) {
      const node = nodes.find((candidate) => candidate.id === receipt.user_id)!;
      const expectedFields = [node.incomeStreams !== null ? "User.incomeStreams" : null, node.wellness !== null ? "User.wellness" : null].filter(Boolean);
      assert.deepEqual(receipt.fields, expectedFields, receipt.user_id);
      assert.equal(receipt.consent_id, consentOf.get(receipt.user_id)!.id);
      assert.deepEqual(receipt.scopes, consentOf.get(receipt.user_id)!.scopes, "the scopes of the consent, as granted");
    }
  });

  test("a person without a consent for the client is not found by user(id)", async () => {
    const stranger = await sql.query<{ id: string }>(
      "SELECT u.id FROM app_user u WHERE NOT EXISTS (SELECT 1 FROM consent c WHERE c.user_id = u.id AND c.client_id = 'of_lab_demo') LIMIT 1",
    );
    const { body } = await postGraphQL(kamina.graphqlUrl, `query($id: ID!) { user(id: $id) { id wellness { score } } }`, { id: stranger.rows[0]!.id }, partner);
    assert.equal(body.errors, undefined);
    assert.equal(body.data!.user, null);
    const entities = await postAsGateway(kamina, kamina.subgraphs.debts!.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { id } } } }`, {
      r: [{ __typename: "User", id: stranger.rows[0]!.id }],
    }, partner);
    assert.deepEqual(entities.body.data, { _entities: [{ debts: null }] }, "the subgraph itself refuses a person without a consent");
  });

  test("a partner token's own scopes bound every person's: the gateway removes what the token lacks before any subgraph is asked", async () => {
    const { accessToken } = await kamina.gateway!.auth.issuer.issueClientToken({ clientId: "of_lab_demo", environment: "sandbox", countries: ["EC", "MX", "PE", "CO", "CL"], scopes: ["wellness.read"] });
    const statements = await countStatements(kamina, async () => {
      const { body } = await postGraphQL(kamina.graphqlUrl, `{ users(first: 5) { edges { node { id wellness { score } debts { id } } } } }`, {}, bearer(accessToken));
      const edges = body.data!.users.edges as { node: Node }[];
      assert.equal(edges.length, 5);
      for (const { node } of edges) {
        assert.equal(typeof node.wellness?.score, "number");
        assert.equal(node.debts, null);
      }
      assert.deepEqual(body.errors!.map((error) => [error.path!.join("."), error.extensions?.code]), [["users.edges.@.node.debts", UNAUTHORIZED]]);
    });
    assert.equal(statements.debts, 0, "the debts subgraph was not asked");
  });

  test("a partner token has no `me`, and is told so", async () => {
    const { body } = await postGraphQL(kamina.graphqlUrl, `{ me { id } }`, {}, partner);
    assert.deepEqual(body.data, { me: null });
    assert.deepEqual(body.errors!.map((error) => [error.path, error.extensions?.code]), [[["me"], "FORBIDDEN"]]);
    assert.match(body.errors![0]!.message, /`me` is the person of a consent token; a partner \(client-credentials\) token has none/);
  });

  test("a revoked consent drops the person on the very next request", async () => {
    const victim = (await sql.query<{ user_id: string }>(
      "SELECT user_id FROM consent WHERE client_id = 'of_lab_demo' AND status = 'AUTHORISED' AND 'debts.read' = ANY(scopes) ORDER BY user_id LIMIT 1",
    )).rows[0]!.user_id;
    const query = `query($id: ID!) { user(id: $id) { id debts { id } } users(first: 100) { edges { node { id } } } }`;
    const before = await postGraphQL(kamina.graphqlUrl, query, { id: victim }, partner);
    assert.equal(before.body.data!.user.id, victim);
    assert.ok(before.body.data!.users.edges.some((edge: { node: { id: string } }) => edge.node.id === victim));

    await sql.query("UPDATE consent SET status = 'REVOKED', revoked_at = now() WHERE user_id = $1 AND client_id = 'of_lab_demo'", [victim]);
    const afterRevocation = await postGraphQL(kamina.graphqlUrl, query, { id: victim }, partner);
    assert.equal(afterRevocation.body.data!.user, null);
    assert.ok(!afterRevocation.body.data!.users.edges.some((edge: { node: { id: string } }) => edge.node.id === victim));
    const direct = await postAsGateway(kamina, kamina.subgraphs.debts!.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { id } } } }`, {
      r: [{ __typename: "User", id: victim }],
    }, partner);
    assert.deepEqual(direct.body.data, { _entities: [{ debts: null }] });
    assert.equal(direct.body.errors?.[0]?.extensions?.code, UNAUTHORIZED);
  });

  /** The n-th person (by id) whose authorised consent for the demo client grants debts.read. */
  async function debtsReader(offset: number): Promise<string> {
    const row = await sql.query<{ user_id: string }>(
      "SELECT user_id FROM consent WHERE client_id = 'of_lab_demo' AND status = 'AUTHORISED' AND 'debts.read' = ANY(scopes) ORDER BY user_id OFFSET $1 LIMIT 1",
      [offset],
    );
    return row.rows[0]!.user_id;
  }

  const DEBTS_OF = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { id } } } }`;
  const debtsDirect = (userId: string) => postAsGateway(kamina, kamina.subgraphs.debts!.url, DEBTS_OF, { r: [{ __typename: "User", id: userId }] }, partner);

  test("steady requests reuse a client's consent grants; any change to its consents makes the next request read them again", async () => {
    const query = `query($id: ID!) { user(id: $id) { id debts { id } expenses(first: 1) { totalCount } alerts { id } } }`;
    const person = await debtsReader(3);
    const ask = () => postGraphQL(kamina.graphqlUrl, query, { id: person }, partner);
    await ask();
    const steady = await countStatements(kamina, ask);
    const version = async () => (await sql.query<{ v: string }>("SELECT consent_version::text AS v FROM partner_client WHERE id = 'of_lab_demo'")).rows[0]!.v;
    const before = await version();
    // A change that grants nothing different (the reason text) keeps the version.
    await sql.query("UPDATE consent SET revocation_reason = 'note' WHERE user_id = $1 AND client_id = 'of_lab_demo'", [person]);
    assert.equal(await version(), before);
    // Any change to what a consent grants, of anyone's, moves it in the same transaction.
    const other = await debtsReader(4);
    await sql.query("UPDATE consent SET scopes = scopes WHERE user_id = $1 AND client_id = 'of_lab_demo'", [other]);
    assert.equal(await version(), before, "an UPDATE that leaves the scopes as they were changes nothing");
    await sql.query("UPDATE consent SET scopes = array_append(scopes, 'coach.transcripts.read') WHERE user_id = $1 AND client_id = 'of_lab_demo'", [other]);
    assert.notEqual(await version(), before);
    const afterChange = await countStatements(kamina, ask);
    for (const subgraph of ["debts", "expenses", "alerts"]) {
      assert.equal(afterChange[subgraph], steady[subgraph]! + 1, `${subgraph}: the consent grants are read again once, after the change`);
    }
    const steadyAgain = await countStatements(kamina, ask);
    assert.deepEqual(steadyAgain, steady, "and then kept again");
  });

  test("narrowed scopes apply on the very next request, at a subgraph reached directly too", async () => {
    const person = await debtsReader(1);
    assert.equal((await debtsDirect(person)).body.data!._entities[0].debts !== null, true);
    assert.equal((await debtsDirect(person)).body.data!._entities[0].debts !== null, true, "read twice: the grants are kept");
    await sql.query("UPDATE consent SET scopes = array_remove(scopes, 'debts.read') WHERE user_id = $1 AND client_id = 'of_lab_demo'", [person]);
    const narrowed = await debtsDirect(person);
    assert.deepEqual(narrowed.body.data, { _entities: [{ debts: null }] });
    assert.equal(narrowed.body.errors?.[0]?.extensions?.code, UNAUTHORIZED);
  });

  test("a kept consent stops covering anything the moment it expires, with no other change", async () => {
    const person = await debtsReader(2);
    await sql.query("UPDATE consent SET expires_at = now() + interval '1500 milliseconds' WHERE user_id = $1 AND client_id = 'of_lab_demo'", [person]);
    assert.notEqual((await debtsDirect(person)).body.data!._entities[0].debts, null);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const expired = await debtsDirect(person);
    assert.deepEqual(expired.body.data, { _entities: [{ debts: null }] });
  });

  test("a client licensed in one country never reads another country's people, even with their consent", async () => {
    const mx = (await sql.query<{ id: string }>("SELECT id FROM app_user WHERE country = 'MX' ORDER BY id LIMIT 1")).rows[0]!.id;
    const pe = (await sql.query<{ id: string }>("SELECT id FROM app_user WHERE country = 'PE' ORDER BY id LIMIT 1")).rows[0]!.id;
    await sql.query(
      `INSERT INTO partner_client (id, name, secret_hash, status, countries, allowed_scopes, client_scopes, sandbox)
       VALUES ('of_lab_mx_only', 'MX-only test client', 'not-a-usable-hash', 'ACTIVE', ARRAY['MX']::"Country"[], $1, ARRAY[]::text[], false)`,
      [[...USER_SCOPES]],
    );
    for (const [user, country] of [[mx, "MX"], [pe, "PE"]] as const) {
      await sql.query(
        `INSERT INTO consent (id, client_id, user_id, country, status, scopes, consent_text_version, authorised_at)
         VALUES ($1, 'of_lab_mx_only', $2, $3::"Country", 'AUTHORISED', $4, '2026-05-01', now())`,
        [`cns_tenant_${user}`, user, country, [...USER_SCOPES]],
      );
    }
    const { accessToken } = await kamina.gateway!.auth.issuer.issueClientToken({ clientId: "of_lab_mx_only", environment: "sandbox", countries: ["MX"], scopes: [...USER_SCOPES] });
    const mxOnly = bearer(accessToken);
    const listed = await postGraphQL(kamina.graphqlUrl, `{ users(first: 100) { totalCount edges { node { id country debts { id } } } } }`, {}, mxOnly);
    assert.equal(listed.body.errors, undefined);
    // In the client's own pairwise ids (docs/compliance/pseudonymous-ids.md).
    const theirs = (person: string) => new PairwiseIds(kamina.gateway!.auth.config.tokens.pairwiseIdKey).external("of_lab_mx_only", "sandbox", person);
    assert.deepEqual(listed.body.data!.users.edges.map((edge: { node: { id: string } }) => edge.node.id), [theirs(mx)]);
    assert.equal(listed.body.data!.users.totalCount, 1);
    const one = await postGraphQL(kamina.graphqlUrl, `query($id: ID!) { user(id: $id) { id } }`, { id: theirs(pe) }, mxOnly);
    assert.equal(one.body.data!.user, null);
    const direct = await postAsGateway(kamina, kamina.subgraphs.debts!.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { id } } } }`, {
      r: [{ __typename: "User", id: pe }],
    }, mxOnly);
    assert.deepEqual(direct.body.data, { _entities: [{ debts: null }] });
  });
});

describe("concurrent requests share consent and receipt statements", () => {
  test("items queued while a statement runs go together into the next one; an idle batcher runs alone, at once", async () => {
    const statements: string[][] = [];
    let release: (() => void) | undefined;
    const batcher = new StatementBatcher<string, string>(
      async (items) => {
        statements.push([...items]);
        if (statements.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return items.map((item) => item.toUpperCase());
      },
      1000,
      1,
    );
    const first = batcher.add("a");
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(statements, [["a"]], "a lone item is written on the next turn");
    // While "a" runs, two more requests ask: neither joins the running statement.
    const later = [batcher.add("b"), batcher.add("c")];
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(statements, [["a"]]);
    release!();
    assert.deepEqual(await Promise.all([first, ...later]), ["A", "B", "C"]);
    assert.deepEqual(statements, [["a"], ["b", "c"]]);
  });

  test("a slow statement does not hold up the next: up to maxInFlight run at once, then items wait together", async () => {
    const statements: string[][] = [];
    const releases: (() => void)[] = [];
    const batcher = new StatementBatcher<string, string>(
      async (items) => {
        statements.push([...items]);
        await new Promise<void>((resolve) => releases.push(resolve));
        return items.map((item) => item.toUpperCase());
      },
      1000,
      2,
    );
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const answers = [batcher.add("a")];
    await turn();
    answers.push(batcher.add("b"), batcher.add("c"));
    await turn();
    assert.deepEqual(statements, [["a"], ["b", "c"]], "a second statement starts while the first runs");
    answers.push(batcher.add("d"), batcher.add("e"));
    await turn();
    assert.deepEqual(statements, [["a"], ["b", "c"]], "two in flight: the next items wait");
    releases[1]!();
    assert.deepEqual(await Promise.all(answers.slice(1, 3)), ["B", "C"], "the second statement answers before the first");
    await turn();
    assert.deepEqual(statements, [["a"], ["b", "c"], ["d", "e"]], "the waiting items go together");
    releases[0]!();
    releases[2]!();
    assert.deepEqual(await Promise.all(answers), ["A", "B", "C", "D", "E"]);
  });

  test("a failed statement fails every request in it, and the next statement runs", async () => {
    let calls = 0;
    const batcher = new StatementBatcher<number, number>(async (items) => {
      calls++;
      if (calls === 1) throw new Error("refused");
      return items.map((item) => item * 2);
    });
    const failed = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    assert.deepEqual(failed.map((result) => result.status), ["rejected", "rejected"]);
    assert.equal(await batcher.add(3), 6);
  });
});
