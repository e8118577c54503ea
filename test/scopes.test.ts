import { LOCAL_KEY_ENCRYPTION_KEY } from "../platform/config/secret-policy.ts";
import { DataKeyRing, DataKeyTable } from "../platform/encryption/data-keys.ts";
import { COACH_TRANSCRIPT_TEXT } from "../platform/encryption/encrypted-columns.ts";
import { FieldVault } from "../platform/encryption/field-vault.ts";
import { LocalKeyEncryptionKeyProvider } from "../platform/encryption/key-encryption-key.ts";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { composeServices } from "@apollo/composition";
import { buildSchema, parse, print } from "graphql";
import pg from "pg";
import { OperationFilter } from "../gateway/scopes/operation-filter.ts";
import { ReceiptWriter } from "../gateway/scopes/receipts.ts";
import { readSupergraphSecurity } from "../gateway/scopes/supergraph-rules.ts";
import { startSeededKamina, stopSeededKamina } from "./support/seeded-kamina.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { bearer, consentToken } from "../testkit/tokens.ts";
import { countStatements, postGraphQL, startTestKamina, type GraphQLResponse } from "./support/kamina.ts";
import { postAsGateway } from "../testkit/gateway-signature.ts";

const DEMO_USER = "USR_42891";
const UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE";

type Errors = GraphQLResponse["body"]["errors"];

/** The paths of the errors with `code`, as strings, sorted. */
function pathsWith(errors: Errors, code: string): string[] {
  return (errors ?? [])
    .filter((error) => error.extensions?.code === code)
    .map((error) => (error.path ?? []).join("."))
    .sort();
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
}

const ALL_PERSONAL_FIELDS = /* GraphQL */ `
  query AllFields {
    me {
      id
      country
      wellness { score band }
      wellnessHistory(months: 3) { date score }
      savingsGoals { id }
      debts { id issuer }
      debtSummary { openCount }
      expenses(first: 3) { totalCount edges { node { id } } }
      incomeStreams { id }
      coachSessions { id intent }
      alerts { id type }
    }
  }
`;

describe("field-level scopes through the gateway", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;
  let wellnessOnlyToken: string;
  let wellnessOnly: Record<string, string>;
  let everything: Record<string, string>;
  let otherUser: string;

  before(async () => {
    ({ database, kamina, sql } = await startSeededKamina({ users: 40, seed: 11, poolSize: 2 }));
    wellnessOnlyToken = await consentToken(kamina, DEMO_USER, ["wellness.read"]);
    wellnessOnly = bearer(wellnessOnlyToken);
    everything = bearer(await consentToken(kamina, DEMO_USER));
    const other = await sql.query<{ id: string }>("SELECT id FROM app_user WHERE id <> $1 AND country = 'MX' ORDER BY id LIMIT 1", [DEMO_USER]);
    otherUser = other.rows[0]!.id;
  });

  after(async () => {
    await stopSeededKamina({ database, kamina, sql });
  });

  test("a token with only wellness.read gets wellness; every other personal field is null with UNAUTHORIZED_FIELD_OR_TYPE at its path, and the rest runs", async () => {
    const { status, body } = await postGraphQL(kamina.graphqlUrl, ALL_PERSONAL_FIELDS, {}, wellnessOnly);
    assert.equal(status, 200);
    const me = body.data!.me;
    assert.equal(me.id, DEMO_USER);
    assert.equal(me.country, "MX");
    assert.equal(me.wellness.score, 64);
    assert.ok(me.wellnessHistory.length > 0);
    for (const field of ["savingsGoals", "debts", "debtSummary", "expenses", "incomeStreams", "coachSessions", "alerts"]) {
      assert.equal(me[field], null, `${field} is withheld`);
    }
    assert.deepEqual(
      pathsWith(body.errors, UNAUTHORIZED),
      ["me.alerts", "me.coachSessions", "me.debtSummary", "me.debts", "me.expenses", "me.incomeStreams", "me.savingsGoals"],
    );
    assert.equal(body.errors!.length, 7, "nothing but the withheld fields is an error");
    const debts = body.errors!.find((error) => error.path?.join(".") === "me.debts")!;
    assert.match(debts.message, /debts\.read/);
    // The response keeps the order the client asked for.
    assert.deepEqual(Object.keys(me), ["id", "country", "wellness", "wellnessHistory", "savingsGoals", "debts", "debtSummary", "expenses", "incomeStreams", "coachSessions", "alerts"]);
  });

  test("no subgraph receives a request for a field the token does not cover", async () => {
    const statements = await countStatements(kamina, async () => {
      const { body } = await postGraphQL(kamina.graphqlUrl, ALL_PERSONAL_FIELDS, {}, wellnessOnly);
      assert.equal(body.data!.me.wellness.score, 64);
    });
    // Every request a subgraph receives costs at least the token check's statement.
    assert.deepEqual({ debts: statements.debts, expenses: statements.expenses, coach: statements.coach, alerts: statements.alerts }, { debts: 0, expenses: 0, coach: 0, alerts: 0 });
    assert.ok(statements.wellness! > 0);

    const granted = await countStatements(kamina, () => postGraphQL(kamina.graphqlUrl, ALL_PERSONAL_FIELDS, {}, everything));
    for (const subgraph of ["debts", "expenses", "coach", "alerts"]) assert.ok(granted[subgraph]! > 0, `${subgraph} is asked when its scope is granted`);
  });

  test("the same operation with two tokens of different scopes never shares a plan or an answer", async () => {
    const first = await postGraphQL(kamina.graphqlUrl, ALL_PERSONAL_FIELDS, {}, everything);
    const narrow = await postGraphQL(kamina.graphqlUrl, ALL_PERSONAL_FIELDS, {}, wellnessOnly);
    const again = await postGraphQL(kamina.graphqlUrl, ALL_PERSONAL_FIELDS, {}, everything);
    assert.equal(first.body.errors, undefined);
    assert.ok(first.body.data!.me.debts.length > 0);
    assert.equal(narrow.body.data!.me.debts, null);
    assert.deepEqual(again.body, first.body);
  });

  test("scopes are AND within a requirement: the coach transcript needs coach.read and coach.transcripts.read", async () => {
    const query = `{ me { coachSessions { id intent transcript } } }`;
    const coachOnly = await postGraphQL(kamina.graphqlUrl, query, {}, bearer(await consentToken(kamina, DEMO_USER, ["coach.read"])));
    const sessions = coachOnly.body.data!.me.coachSessions as { id: string; intent: string; transcript: string | null }[];
    assert.ok(sessions.length > 0);
    assert.ok(sessions.every((session) => session.transcript === null && typeof session.intent === "string"));
    assert.deepEqual(pathsWith(coachOnly.body.errors, UNAUTHORIZED), ["me.coachSessions.@.transcript"], "one error per removed field, `@` for the list");
    assert.equal(coachOnly.body.errors!.length, 1);

    const transcriptsOnly = await postGraphQL(kamina.graphqlUrl, query, {}, bearer(await consentToken(kamina, DEMO_USER, ["coach.transcripts.read"])));
    assert.equal(transcriptsOnly.body.data!.me.coachSessions, null, "transcripts.read alone does not open the sessions");

    const both = await postGraphQL(kamina.graphqlUrl, query, {}, bearer(await consentToken(kamina, DEMO_USER, ["coach.read", "coach.transcripts.read"])));
    assert.equal(both.body.errors, undefined);
    const texts = await sql.query<{ session_id: string; text: string }>(
      "SELECT t.session_id, t.text FROM coach_transcript t JOIN coach_session s ON s.id = t.session_id WHERE s.user_id = $1",
      [DEMO_USER],
    );
    assert.ok(texts.rowCount! > 0, "the demo user has transcripts");
    // Stored sealed (test/encryption-at-rest.test.ts); opened here with the local KEK the seed used.
    const vault = new FieldVault(new DataKeyRing(new DataKeyTable(async (text, params) => (await sql.query(text, params)).rows), new LocalKeyEncryptionKeyProvider(LOCAL_KEY_ENCRYPTION_KEY)));
    const opened = await Promise.all(texts.rows.map(async (row) => [row.session_id, await vault.decrypt("MX", row.text, COACH_TRANSCRIPT_TEXT.context(row.session_id))] as const));
    assert.ok(texts.rows.every((row) => row.text.startsWith("kge1:")), "sealed at rest");
    const byId = new Map(opened);
    for (const session of both.body.data!.me.coachSessions as { id: string; transcript: string | null }[]) {
      assert.equal(session.transcript, byId.get(session.id) ?? null);
    }
  });

  test("named fragments, inline fragments, aliases and @include/@skip all filter the same way", async () => {
    const query = /* GraphQL */ `
      query Shapes($withDebts: Boolean!, $skipAlerts: Boolean = true) {
        me {
          ...Money
          ... on User { score: wellness { score } }
          owed: debts @include(if: $withDebts) { id }
          alerts @skip(if: $skipAlerts) { id }
        }
        again: me { ...Money }
      }
      fragment Money on User { id debtSummary { openCount } }
    `;
    const included = await postGraphQL(kamina.graphqlUrl, query, { withDebts: true }, wellnessOnly);
    assert.deepEqual(included.body.data, {
      me: { id: DEMO_USER, debtSummary: null, score: { score: 64 }, owed: null },
      again: { id: DEMO_USER, debtSummary: null },
    });
    assert.deepEqual(pathsWith(included.body.errors, UNAUTHORIZED), ["again.debtSummary", "me.debtSummary", "me.owed"]);

    const skipped = await postGraphQL(kamina.graphqlUrl, query, { withDebts: false, skipAlerts: false }, wellnessOnly);
    assert.deepEqual(skipped.body.data, {
      me: { id: DEMO_USER, debtSummary: null, score: { score: 64 }, alerts: null },
      again: { id: DEMO_USER, debtSummary: null },
    });
    assert.deepEqual(pathsWith(skipped.body.errors, UNAUTHORIZED), ["again.debtSummary", "me.alerts", "me.debtSummary"], "a field the request skipped is no error");
  });

  test("an operation whose every personal field is removed still answers, with its nulls and errors", async () => {
    const { status, body } = await postGraphQL(kamina.graphqlUrl, `{ me { debts { id } alerts { id } } }`, {}, wellnessOnly);
    assert.equal(status, 200);
    assert.deepEqual(body.data, { me: { debts: null, alerts: null } });
    assert.deepEqual(pathsWith(body.errors, UNAUTHORIZED), ["me.alerts", "me.debts"]);
  });

  test("a consent token reads its own person only", async () => {
    const query = `query($id: ID!) { user(id: $id) { id wellness { score } } users(first: 50) { totalCount edges { node { id } } } }`;
    const { body } = await postGraphQL(kamina.graphqlUrl, query, { id: otherUser }, everything);
    assert.equal(body.errors, undefined);
    assert.equal(body.data!.user, null, "another person is not found");
    assert.equal(body.data!.users.totalCount, 1);
    assert.deepEqual(body.data!.users.edges, [{ node: { id: DEMO_USER } }]);
    const own = await postGraphQL(kamina.graphqlUrl, query, { id: DEMO_USER }, everything);
    assert.equal(own.body.data!.user.wellness.score, 64);
  });

  test("a subgraph reached directly refuses what the token does not cover, and anyone without a token", async () => {
    const debtsUrl = kamina.subgraphs.debts!.url;
    const entities = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id debts { id } } } }`;
    const mine = { representations: [{ __typename: "User", id: DEMO_USER }] };

    const lacking = await postAsGateway(kamina, debtsUrl, entities, mine, wellnessOnly);
    assert.equal(lacking.status, 200);
    assert.deepEqual(lacking.body.data, { _entities: [{ id: DEMO_USER, debts: null }] });
    assert.deepEqual(pathsWith(lacking.body.errors, UNAUTHORIZED), ["_entities.0.debts"]);

    const granted = await postAsGateway(kamina, debtsUrl, entities, mine, everything);
    assert.equal(granted.body.errors, undefined);
    assert.ok(granted.body.data!._entities[0].debts.length > 0);

    const someoneElse = await postAsGateway(kamina, debtsUrl, entities, { representations: [{ __typename: "User", id: otherUser }] }, everything);
    assert.deepEqual(someoneElse.body.data, { _entities: [{ id: otherUser, debts: null }] }, "a consent token reads nothing of another person");
    assert.deepEqual(pathsWith(someoneElse.body.errors, UNAUTHORIZED), ["_entities.0.debts"]);

    const alerts = await postAsGateway(kamina, kamina.subgraphs.alerts!.url, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Alert { id type } } }`, {
      r: [{ __typename: "Alert", id: (await sql.query<{ id: string }>("SELECT id FROM alert WHERE user_id = $1 LIMIT 1", [DEMO_USER])).rows[0]!.id }],
    }, wellnessOnly);
    assert.deepEqual(alerts.body.data, { _entities: [null] }, "an Alert reached by its key needs alerts.read too");
    assert.deepEqual(pathsWith(alerts.body.errors, UNAUTHORIZED), ["_entities.0"]);

    const anonymous = await postAsGateway(kamina, debtsUrl, entities, mine);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.data, undefined);
    assert.deepEqual(anonymous.body.errors!.map((error) => error.extensions?.code), ["UNAUTHENTICATED"]);
  });

  test("a receipt lists exactly the fields returned, once per request, and nothing is written when no personal data is read", async () => {
    const requestId = `scopes-receipt-${Date.now()}`;
    const response = await fetch(kamina.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": requestId, ...wellnessOnly },
      body: JSON.stringify({ query: `{ me { id country wellness { score } debts { id } } }` }),
    });
    assert.equal(response.status, 200);
    const receipts = await sql.query<{ client_id: string; user_id: string; consent_id: string; scopes: string[]; fields: string[]; at: Date }>(
      "SELECT client_id, user_id, consent_id, scopes, fields, at FROM audit_event WHERE action = 'consent.receipt' AND request_id = $1",
      [requestId],
    );
    assert.equal(receipts.rowCount, 1);
    const receipt = receipts.rows[0]!;
    assert.deepEqual(
      { client: receipt.client_id, user: receipt.user_id, consent: receipt.consent_id, scopes: receipt.scopes, fields: receipt.fields },
      { client: "of_lab_demo", user: DEMO_USER, consent: claimsOf(wellnessOnlyToken).consent_id, scopes: ["wellness.read"], fields: ["User.country", "User.wellness"] },
    );
    assert.ok(Date.now() - receipt.at.getTime() < 60_000);

    const idOnly = `scopes-no-receipt-${Date.now()}`;
    await fetch(kamina.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": idOnly, ...wellnessOnly },
      body: JSON.stringify({ query: `{ me { id } }` }),
    });
    const none = await sql.query("SELECT 1 FROM audit_event WHERE request_id = $1", [idOnly]);
    assert.equal(none.rowCount, 0);
  });

  test("a receipt naming a consent of another client is refused, and nothing is written", async () => {
    const writer = new ReceiptWriter(kamina.gateway!.auth.prisma);
    const forger = { kind: "client" as const, environment: "live" as const, clientId: "of_someone_else", countries: ["MX" as const], consentVersion: "0", scopes: new Set<string>(), tokenId: "forged" };
    const consentId = claimsOf(wellnessOnlyToken).consent_id as string;
    await assert.rejects(writer.write({ requestId: "forged-receipt", viewer: forger, operationName: null }, [{ consentId, fields: ["User.wellness"] }]));
    const rows = await sql.query("SELECT 1 FROM audit_event WHERE request_id = 'forged-receipt'");
    assert.equal(rows.rowCount, 0);
  });

  test("the client never sees the subgraphs' receipt reports", async () => {
    const { body } = await postGraphQL(kamina.graphqlUrl, ALL_PERSONAL_FIELDS, {}, everything);
    assert.equal((body as { extensions?: unknown }).extensions, undefined);
  });

  test("when the receipt cannot be written the client gets a 500 and no data", async () => {
    await sql.query(`
      CREATE FUNCTION refuse_test_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.request_id = 'receipt-refused' THEN RAISE EXCEPTION 'refused for the test'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_test_receipt BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION refuse_test_receipt();`);
    try {
      const response = await fetch(kamina.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "receipt-refused", ...everything },
        body: JSON.stringify({ query: `{ me { id wellness { score } } }` }),
      });
      assert.equal(response.status, 500);
      const body = (await response.json()) as GraphQLResponse["body"];
      assert.equal(body.data, undefined);
      assert.deepEqual(body.errors!.map((error) => error.extensions?.code), ["INTERNAL_SERVER_ERROR"]);
      assert.doesNotMatch(JSON.stringify(body), /64|refused for the test/);
    } finally {
      await sql.query("DROP TRIGGER refuse_test_receipt ON audit_event; DROP FUNCTION refuse_test_receipt()");
    }
  });
});

describe("reading requirements from a supergraph", () => {
  const link = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@shareable", "@requiresScopes", "@authenticated"])`;
  const composed = composeServices([
    {
      name: "one",
      url: "http://one.invalid",
      typeDefs: parse(`${link}
        type Query { account: Account @authenticated }
        type Account @key(fields: "id") {
          id: ID!
          either: String @requiresScopes(scopes: [["a"], ["b", "c"]])
          shared: String @shareable @requiresScopes(scopes: [["x"]])
          secret: Secret
          required: String! @requiresScopes(scopes: [["z"]])
          holder: Holder
        }
        type Holder { required: Int! @requiresScopes(scopes: [["z"]]) other: Int }
        type Secret @requiresScopes(scopes: [["s"]]) { value: String }`),
    },
    {
      name: "two",
      url: "http://two.invalid",
      typeDefs: parse(`${link}
        type Account @key(fields: "id") { id: ID! shared: String @shareable @requiresScopes(scopes: [["y"]]) }`),
    },
  ]);
  assert.equal(composed.errors, undefined);
  const security = readSupergraphSecurity(composed.supergraphSdl!);
  const filter = new OperationFilter(buildSchema(security.gatewaySdl), security.fieldRules);
  const removed = (query: string, scopes: string[]) => filter.filter(parse(query), null, new Set(scopes)).removals.map((removal) => removal.path.join("."));

  test("the gateway's copy of the supergraph drops `for: SECURITY` and nothing else", () => {
    assert.match(composed.supergraphSdl!, /requiresScopes\/v0\.1", for: SECURITY/);
    assert.doesNotMatch(security.gatewaySdl, /for: SECURITY/);
    assert.match(security.gatewaySdl, /@link\(url: "https:\/\/specs\.apollo\.dev\/join\/v0\.3", for: EXECUTION\)/);
  });

  test("the outer list is OR and the inner AND", () => {
    assert.deepEqual(removed(`{ account { either } }`, ["a"]), []);
    assert.deepEqual(removed(`{ account { either } }`, ["b", "c"]), []);
    assert.deepEqual(removed(`{ account { either } }`, ["b"]), ["account.either"]);
    assert.deepEqual(removed(`{ account { either } }`, []), ["account.either"]);
  });

  test("a field several subgraphs define needs every subgraph's requirement", () => {
    assert.deepEqual(removed(`{ account { shared } }`, ["x"]), ["account.shared"]);
    assert.deepEqual(removed(`{ account { shared } }`, ["y"]), ["account.shared"]);
    assert.deepEqual(removed(`{ account { shared } }`, ["x", "y"]), []);
  });

  test("a field returning a type with a requirement needs the type's requirement too", () => {
    assert.deepEqual(removed(`{ account { secret { value } } }`, []), ["account.secret"]);
    assert.deepEqual(removed(`{ account { secret { value } } }`, ["s"]), []);
  });

  test("a removed non-null field nulls its nearest nullable ancestor, and the placeholder keeps the selection valid", () => {
    const result = filter.filter(parse(`{ account { id holder { required other } required } }`), null, new Set());
    assert.deepEqual(
      result.removals.map((removal) => [removal.path.join("."), removal.nullPath.join(".")]),
      [
        ["account.holder.required", "account.holder"],
        ["account.required", "account"],
      ],
    );
    assert.equal(print(result.document).replace(/\s+/g, " "), "{ account: __typename }");
  });
});

