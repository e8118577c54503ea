// Identical queries in flight at once for the same caller share one subgraph fetch; different
// people, different clients, mutations and a consent revoked meanwhile never do. A fetch is made
// to wait by a real table lock held in another PostgreSQL session, so what is in flight is
// visible: each fetch that reached the database is one backend waiting on that lock.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { seedDatabase } from "../prisma/seed/index.ts";
import { PairwiseIds } from "../platform/auth/pairwise-ids.ts";
import { hashSecret } from "../platform/secret-hash.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { basic, bearer, CONSENT_TEXT_VERSION, consentToken, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { countStatements, startTestKamina, type GraphQLResponse } from "./support/kamina.ts";
import { rest } from "./support/rest.ts";
import { disableMetrics, enableMetrics, type KaminaMetrics } from "../platform/observability/metrics.ts";
import { markFinal, stringifyResult } from "../gateway/shared-answers.ts";

const PAGE = `query Page { me { id wellness { score band } debts { id balance } } }`;
/** Another sandbox client: the same person's data asked by two clients. */
const OTHER = { id: "lab_shared_other", secret: "shared-other-secret-0123" };
const LOCKED_TABLE = "wellness_snapshot";

describe("identical subgraph fetches in flight", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let sql: pg.Client;
  let people: [string, string, string];
  let requestCount = 0;
  let metrics: KaminaMetrics;
  /** Queries the gateway answered from an identical one in flight (kamina_gateway_shared_operations_total). */
  const sharedOperations = async (): Promise<number> => (await metrics.sharedOperations.get()).values[0]?.value ?? 0;

  /** A request with an id of its own, so its receipts can be counted. */
  const post = async (query: string, headers: Record<string, string>, variables?: Record<string, unknown>): Promise<GraphQLResponse & { requestId: string }> => {
    const requestId = `shared-fetch-${process.pid}-${++requestCount}`;
    const response = await fetch(kamina.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": requestId, ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as GraphQLResponse["body"], requestId };
  };

  /** Backends of this test's database waiting on a lock: the fetches in flight behind it. */
  /** The sessions waiting for the locked table: fetches held by whileLocked (not any other lock wait of the moment, such as two audit writers meeting at a chain's head). */
  const waiting = async (): Promise<number> => {
    const rows = await sql.query<{ n: number }>("SELECT count(DISTINCT pid)::int AS n FROM pg_locks WHERE NOT granted AND relation = $1::regclass AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", [LOCKED_TABLE]);
    return rows.rows[0]!.n;
  };

  const waitForWaiting = async (count: number): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while ((await waiting()) < count) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} fetches reached the database in 10 s`);
      await sleep(20);
    }
  };

  /**
   * Sends each request once the one before it waits in the database. Requests sent in the same
   * instant may be read by a subgraph in one statement (consent-token reads are batched across
   * requests), which would hide whether the gateway kept them apart.
   */
  const sendInTurn = async <T>(sends: readonly (() => Promise<T>)[]): Promise<Promise<T>[]> => {
    const sent: Promise<T>[] = [];
    for (const send of sends) {
      sent.push(send());
      await waitForWaiting(sent.length);
    }
    return sent;
  };

  /** Runs `during` while a second session holds the table every wellness fetch reads, then lets go. */
  const whileLocked = async <T>(during: (locker: pg.Client) => Promise<T>): Promise<T> => {
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE ${LOCKED_TABLE} IN ACCESS EXCLUSIVE MODE`);
      return await during(locker);
    } finally {
      await locker.query("COMMIT").catch(() => undefined);
      await locker.end();
    }
  };

  /** The receipts that record the request (as their `request_id` or among their `request_ids`). */
  const receiptsOf = async (requestId: string): Promise<number> => {
    const rows = await sql.query("SELECT 1 FROM audit_event WHERE action = 'consent.receipt' AND (request_id = $1 OR $1 = ANY (request_ids))", [requestId]);
    return rows.rowCount ?? 0;
  };

  before(async () => {
    metrics = enableMetrics();
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 20, seed: 17, sandboxClientSecret: TEST_SANDBOX_SECRET });
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 8 });
    const { prisma } = kamina.gateway!.auth;
    await prisma.partnerClient.create({
      data: { id: OTHER.id, name: "Other lab", secretHash: await hashSecret(OTHER.secret), countries: ["EC", "MX", "PE", "CO", "CL"], allowedScopes: ["wellness.read", "debts.read"], clientScopes: [], sandbox: true },
    });
    const users = await prisma.user.findMany({ where: { snapshots: { some: {} }, debts: { some: {} }, consents: { none: {} } }, select: { id: true }, orderBy: { id: "asc" }, take: 3 });
    assert.equal(users.length, 3, "the seed has three people with wellness, debts and no consent yet");
    people = [users[0]!.id, users[1]!.id, users[2]!.id];
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });

  after(async () => {
    await sql?.end();
    await kamina?.stop();
    await database?.drop();
    disableMetrics();
  });

  test("identical concurrent requests with one token share one fetch per subgraph, and one receipt records each of them once", async () => {
    const token = await consentToken(kamina, people[0]);
    const alone = await post(PAGE, bearer(token));
    assert.equal(alone.status, 200);
    assert.equal(alone.body.errors, undefined);
    assert.equal(alone.body.data!.me.id, people[0]);
    const once = await countStatements(kamina, () => post(PAGE, bearer(token)));

    const n = 6;
    const sharedBefore = await sharedOperations();
    let answers: Awaited<ReturnType<typeof post>>[] = [];
    const statements = await countStatements(kamina, () =>
      whileLocked(async () => {
        const requests = Array.from({ length: n }, () => post(PAGE, bearer(token)));
        await waitForWaiting(1);
        // Time for every request to pass the gateway's token check and reach the wellness fetch.
        await sleep(1_000);
        assert.equal(await waiting(), 1, "the six requests wait on one wellness fetch");
        return requests;
      }).then(async (requests) => {
        answers = await Promise.all(requests);
      }),
    );

    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, alone.body);
    }
    assert.equal(statements.wellness, once.wellness, "one wellness fetch for six requests");
    assert.equal(statements.debts, once.debts, "one debts fetch for six requests");
    assert.equal((await sharedOperations()) - sharedBefore, n - 1, "five requests took the first one's execution");
    for (const answer of answers) assert.equal(await receiptsOf(answer.requestId), 1, `request ${answer.requestId} is recorded once`);
    const shared = await sql.query<{ request_id: string; request_ids: string[] }>(
      "SELECT request_id, request_ids FROM audit_event WHERE action = 'consent.receipt' AND request_id = ANY ($1)",
      [answers.map((answer) => answer.requestId)],
    );
    assert.equal(shared.rowCount, 1, "the six identical reads, written by one statement, are one receipt");
    assert.deepEqual([...shared.rows[0]!.request_ids].sort(), answers.map((answer) => answer.requestId).sort());
    assert.equal(shared.rows[0]!.request_ids[0], shared.rows[0]!.request_id);
  });

  test("sharers of an answer with removed fields get, byte for byte, the text a lone request gets", async () => {
    // No debts.read: the debts are removed from the operation, null in the answer, with an error at their path.
    const token = await consentToken(kamina, people[0], ["wellness.read"]);
    const text = async () => {
      const response = await fetch(kamina.graphqlUrl, { method: "POST", headers: { "content-type": "application/json", ...bearer(token) }, body: JSON.stringify({ query: PAGE }) });
      return { status: response.status, text: await response.text() };
    };
    const alone = await text();
    assert.equal(alone.status, 200);
    const body = JSON.parse(alone.text) as GraphQLResponse["body"];
    assert.equal(body.data!.me.debts, null);
    assert.equal(body.errors?.[0]?.extensions?.code, "UNAUTHORIZED_FIELD_OR_TYPE");
    const sharedBefore = await sharedOperations();
    const answers = await Promise.all(
      await whileLocked(async () => {
        const requests = Array.from({ length: 4 }, () => text());
        await waitForWaiting(1);
        await sleep(1_000);
        return requests;
      }),
    );
    assert.equal((await sharedOperations()) - sharedBefore, 3);
    for (const answer of answers) assert.deepEqual(answer, alone);
  });

  test("two people asking the same query at once are never shared: each gets their own answer", async () => {
    const sharedBefore = await sharedOperations();
    const tokens = await Promise.all(people.slice(0, 2).map((id) => consentToken(kamina, id)));
    const once = await countStatements(kamina, () => post(PAGE, bearer(tokens[0]!)));
    let answers: Awaited<ReturnType<typeof post>>[] = [];
    const statements = await countStatements(kamina, async () => {
      const requests = await whileLocked(() => sendInTurn(tokens.map((token) => () => post(PAGE, bearer(token)))));
      answers = await Promise.all(requests);
    });
    assert.deepEqual(answers.map((answer) => answer.body.data?.me.id), people.slice(0, 2));
    assert.equal(statements.wellness, 2 * once.wellness!);
    assert.equal(statements.debts, 2 * once.debts!);
    for (const answer of answers) assert.equal(await receiptsOf(answer.requestId), 1);
    assert.equal(await sharedOperations(), sharedBefore, "no execution was shared");
  });

  test("one person's data asked by two clients at once is fetched once per client", async () => {
    const ours = await consentToken(kamina, people[0]);
    const user = await kamina.gateway!.auth.prisma.user.findUniqueOrThrow({ where: { id: people[0] }, select: { country: true } });
    const asked = await rest(kamina.gateway!.origin, "POST", "/v1/auth/consent", {
      headers: basic(OTHER.id, OTHER.secret),
      json: { client_id: OTHER.id, user_external_id: people[0], scopes: ["wellness.read", "debts.read"], country: user.country, consent_text_version: CONSENT_TEXT_VERSION },
    });
    assert.equal(asked.status, 200, JSON.stringify(asked.body));
    const theirs = asked.body.access_token as string;

    const answers = await Promise.all(
      await whileLocked(() => sendInTurn([() => post(PAGE, bearer(ours)), () => post(PAGE, bearer(theirs))])),
    );
    // Each client names the person in its own ids (pairwise, docs/compliance/pseudonymous-ids.md).
    const theirId = new PairwiseIds(kamina.gateway!.auth.config.tokens.pairwiseIdKey).external(OTHER.id, "sandbox", people[0]!);
    assert.deepEqual(answers.map((answer) => answer.body.data?.me.id), [people[0], theirId]);
    assert.notEqual(theirId, people[0]);
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.equal(await receiptsOf(answer.requestId), 1);
    }
    const clients = await sql.query<{ client_id: string }>("SELECT client_id FROM audit_event WHERE action = 'consent.receipt' AND request_id = ANY($1) ORDER BY client_id", [answers.map((answer) => answer.requestId)]);
    assert.deepEqual(clients.rows.map((row) => row.client_id).sort(), [DEMO_CLIENT, OTHER.id].sort());
  });

  test("a mutation sent twice at once is sent twice", async () => {
    const token = await consentToken(kamina, people[1]);
    const answers = await Promise.all(
      // Had the second been shared, it would join the first's fetch in flight.
      await whileLocked(() => sendInTurn([0, 1].map(() => () => post("mutation { runDiagnosis { score } }", bearer(token))))),
    );
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body.errors));
      assert.equal(typeof answer.body.data?.runDiagnosis.score, "number");
    }
  });

  test("a request started after its consent was revoked is refused, not served from the fetch already in flight", async () => {
    const user = people[1];
    const { prisma } = kamina.gateway!.auth;
    const asked = await rest(kamina.gateway!.origin, "POST", "/v1/auth/consent", {
      headers: basic(DEMO_CLIENT, TEST_SANDBOX_SECRET),
      json: { client_id: DEMO_CLIENT, user_external_id: user, scopes: ["wellness.read", "debts.read"], country: (await prisma.user.findUniqueOrThrow({ where: { id: user } })).country, consent_text_version: CONSENT_TEXT_VERSION },
    });
    assert.equal(asked.status, 200, JSON.stringify(asked.body));
    const token = asked.body.access_token as string;

    const { first, afterRevocation } = await whileLocked(async () => {
      const first = post(PAGE, bearer(token));
      await waitForWaiting(1);
      const revoked = await rest(kamina.gateway!.origin, "DELETE", `/v1/consents/${asked.body.consent_id as string}`, { headers: basic(DEMO_CLIENT, TEST_SANDBOX_SECRET), json: { reason: "the person withdrew" } });
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      // Answered while the first fetch is still held: it did not wait for, nor join, that fetch.
      const afterRevocation = await post(PAGE, bearer(token));
      assert.equal(await waiting(), 1, "the request after the revocation made no fetch of its own either");
      return { first, afterRevocation };
    });
    await first;
    assert.equal(afterRevocation.status, 401);
    assert.equal(afterRevocation.body.data ?? null, null);
    assert.ok(afterRevocation.body.errors?.some((error) => ["UNAUTHENTICATED", "CONSENT_REVOKED"].includes(error.extensions?.code as string)), JSON.stringify(afterRevocation.body));
    assert.equal(await receiptsOf(afterRevocation.requestId), 0);
  });

  test("a partner's request started after one person revoked is not served that person from the fetch already in flight", async () => {
    const user = people[2];
    const { prisma } = kamina.gateway!.auth;
    const sandbox = basic(DEMO_CLIENT, TEST_SANDBOX_SECRET);
    const country = (await prisma.user.findUniqueOrThrow({ where: { id: user } })).country;
    const asked = await rest(kamina.gateway!.origin, "POST", "/v1/auth/consent", {
      headers: sandbox,
      json: { client_id: DEMO_CLIENT, user_external_id: user, scopes: ["wellness.read", "debts.read"], country, consent_text_version: CONSENT_TEXT_VERSION },
    });
    assert.equal(asked.status, 200, JSON.stringify(asked.body));
    const issued = await rest(kamina.gateway!.origin, "POST", "/v1/auth/token", { headers: sandbox, json: { grant_type: "client_credentials" } });
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const partner = bearer(issued.body.access_token as string);
    const ONE = `query One($id: ID!) { user(id: $id) { id wellness { score } } }`;
    const before = await post(ONE, partner, { id: user });
    assert.equal(before.body.data?.user?.id, user, JSON.stringify(before.body));

    const { first, second } = await whileLocked(async () => {
      const first = post(ONE, partner, { id: user });
      await waitForWaiting(1);
      const revoked = await rest(kamina.gateway!.origin, "DELETE", `/v1/consents/${asked.body.consent_id as string}`, { headers: sandbox, json: { reason: "the person withdrew" } });
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      const second = post(ONE, partner, { id: user });
      // The gateway's check for the second request found another consent state: its own fetch.
      await waitForWaiting(2);
      return { first, second };
    });
    await first;
    const answer = await second;
    assert.equal(answer.body.data?.user ?? null, null, JSON.stringify(answer.body));
    assert.equal(await receiptsOf(answer.requestId), 0);
  });

  test("a partner's identical queries share one execution, and each answer names people in the partner's ids once", async () => {
    // The other client names people by pairwise ids, rewritten in each answer's data in place.
    const other = basic(OTHER.id, OTHER.secret);
    const { prisma } = kamina.gateway!.auth;
    for (const user of people.slice(1)) {
      const country = (await prisma.user.findUniqueOrThrow({ where: { id: user } })).country;
      const asked = await rest(kamina.gateway!.origin, "POST", "/v1/auth/consent", {
        headers: other,
        json: { client_id: OTHER.id, user_external_id: user, scopes: ["wellness.read", "debts.read"], country, consent_text_version: CONSENT_TEXT_VERSION },
      });
      assert.equal(asked.status, 200, JSON.stringify(asked.body));
    }
    const issued = await rest(kamina.gateway!.origin, "POST", "/v1/auth/token", { headers: other, json: { grant_type: "client_credentials" } });
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const partner = bearer(issued.body.access_token as string);
    const LIST = `query List { users(first: 5) { edges { node { id wellness { score } } } } }`;
    const alone = await post(LIST, partner);
    assert.equal(alone.status, 200);
    const ids = alone.body.data?.users.edges.map((edge: { node: { id: string } }) => edge.node.id) ?? [];
    const pairwise = new PairwiseIds(kamina.gateway!.auth.config.tokens.pairwiseIdKey);
    assert.ok(ids.includes(pairwise.external(OTHER.id, "sandbox", people[1]!)), JSON.stringify(alone.body));
    const sharedBefore = await sharedOperations();
    const answers = await Promise.all(
      await whileLocked(async () => {
        const requests = Array.from({ length: 4 }, () => post(LIST, partner));
        await waitForWaiting(1);
        await sleep(1_000);
        return requests;
      }),
    );
    assert.equal((await sharedOperations()) - sharedBefore, 3);
    // The ids are rewritten in place per answer (pairwise ids): a shared result rewritten twice would differ.
    const receipts = await receiptsOf(alone.requestId);
    assert.ok(receipts > 0, "one receipt per person's consent");
    for (const answer of answers) {
      assert.deepEqual(answer.body, alone.body);
      assert.equal(await receiptsOf(answer.requestId), receipts, `request ${answer.requestId} is recorded by a receipt per person`);
    }
  });
});

describe("a shared answer's encoding", () => {
  const RESULTS = [
    { errors: [{ message: "Not authorised", path: ["me", "debts"], extensions: { code: "UNAUTHORIZED_FIELD_OR_TYPE" } }], data: { me: { id: "USR_1", debts: null, name: "Zoë \u2028 \"q\"" } }, extensions: { cost: 3 } },
    { errors: undefined, data: { users: { edges: [{ node: { id: "a", score: 1.5 } }, { node: { id: "b", score: null } }] } }, extensions: undefined },
    { data: { me: null }, errors: [{ message: "late" }] },
  ];

  test("a final data object's answer is what Apollo's own encoding writes, from the first request on", () => {
    for (const result of RESULTS) {
      const expected = `${JSON.stringify(result)}\n`;
      assert.equal(stringifyResult(result), expected, "not final");
      markFinal(result.data);
      assert.equal(stringifyResult(result), expected, "final, encoded");
      assert.equal(stringifyResult({ ...result }), expected, "final, another request's result around the same data");
    }
  });
});
