// A suspended partner client reads nothing: its tokens are refused like revoked ones at the
// gateway, at each subgraph port and on subscriptions, and reinstating it brings none of them
// back (issue 16, cause 3). Also: what client authentication does with a Basic client id it
// cannot store (cause 6).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { firstMomentAfterCutoff, issuedBeforeCutoff } from "../platform/auth/client-suspension-cutoff.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { suspendClient } from "../gateway/auth/client-status.ts";
import { postGraphQL, startTestKamina, type GraphQLResponse } from "./support/kamina.ts";
import { PERSON_A, createRealtimeDatabase, raiseAlert, TestSubscription } from "./support/realtime.ts";
import { assertEnvelope, rest, type RestOptions } from "./support/rest.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { basic, bearer, CONSENT_TEXT_VERSION, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { postAsGateway } from "../testkit/gateway-signature.ts";

type Kamina = Awaited<ReturnType<typeof startTestKamina>>;

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { debts { id } } } }`;
const ALERTS = `subscription { alertCreated { id user { id } } }`;

/** `npm run client:suspend|client:reinstate -- <id>`, as an operator runs it, against the test database. */
async function clientStatusScript(databaseUrl: string, action: "suspend" | "reinstate", clientId: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/client-status.ts", action, clientId], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
  return stdout;
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe("a suspended client", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Kamina;
  const open: TestSubscription[] = [];

  const sandbox = basic(DEMO_CLIENT, TEST_SANDBOX_SECRET);
  const call = (method: string, path: string, options: RestOptions = {}) => rest(kamina.gateway!.origin, method, path, options);
  const grant = async () => {
    const answer = await call("POST", "/v1/auth/consent", {
      headers: sandbox,
      json: { client_id: DEMO_CLIENT, user_external_id: PERSON_A, scopes: ["alerts.read", "debts.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return { access: answer.body.access_token as string, refresh: answer.body.refresh_token as string };
  };
  const refresh = (refreshToken: string) => call("POST", "/v1/auth/token", { headers: sandbox, form: { grant_type: "refresh_token", refresh_token: refreshToken } });
  const me = (token: string) => postGraphQL(kamina.graphqlUrl, "{ me { id } }", undefined, bearer(token));
  /** A subgraph port called directly, as by anyone on the private network, with no gateway seal. */
  const debtsDirect = (token: string) => postAsGateway(kamina, kamina.subgraphs.debts!.url, ENTITIES, { r: [{ __typename: "User", id: PERSON_A }] }, bearer(token));
  const subscribe = (token: string) => {
    const subscription = new TestSubscription(kamina.graphqlUrl, `Bearer ${token}`, ALERTS);
    open.push(subscription);
    return subscription;
  };
  const subscribers = () => kamina.gateway!.subscriptions.hub.size.subscribers;
  async function subscribed(before: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (subscribers() <= before) {
      if (Date.now() > deadline) throw new Error("the subscription did not reach the gateway");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  function assertReads(answer: GraphQLResponse, what: string): void {
    assert.equal(answer.status, 200, `${what}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.errors, undefined, `${what}: ${JSON.stringify(answer.body.errors)}`);
  }

  function assertRefused(answer: GraphQLResponse, code: string, what: string, message = /suspended/): void {
    assert.equal(answer.status, 401, `${what}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.errors?.[0]?.extensions?.code, code, what);
    assert.match(answer.body.errors?.[0]?.message ?? "", message, what);
    assert.equal(answer.body.data, undefined, `${what}: no data beside the error`);
  }

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, { SUBSCRIPTION_RECHECK_SECONDS: "60", RELAY_POLL_MS: "100" });
  });

  after(async () => {
    await Promise.all(open.map((subscription) => subscription.dispose().catch(() => undefined)));
    await kamina?.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  test("is refused everywhere, as a revoked token is: /graphql, a subgraph port, new subscriptions, and its open ones close at once", async () => {
    // What a revoked token gets, to compare with.
    const revoked = await grant();
    assert.equal((await call("POST", "/v1/auth/revoke", { headers: sandbox, json: { token: revoked.access } })).status, 200);
    const revokedCode = (await me(revoked.access)).body.errors?.[0]?.extensions?.code as string;
    assert.equal(revokedCode, "UNAUTHENTICATED");
    const revokedAtConnect = (await within(subscribe(revoked.access).closed, 5_000, "a revoked token's new subscription")).code;

    const { access } = await grant();
    assertReads(await me(access), "before the suspension, at the gateway");
    assertReads(await debtsDirect(access), "before the suspension, at a subgraph port");
    const base = subscribers();
    const live = subscribe(access);
    await subscribed(base);

    const said = await clientStatusScript(database.url, "suspend", DEMO_CLIENT);
    assert.match(said, /SUSPENDED/);
    // The notice went out when the script's change committed, from another process.
    const closed = await within(live.closed, 10_000, "the open subscription");
    assert.equal(closed.code, 4403, closed.reason);
    assert.match(closed.reason, /revoked.*suspended/);

    assertRefused(await me(access), revokedCode, "at the gateway");
    assertRefused(await debtsDirect(access), revokedCode, "at a subgraph port");
    for (const subgraph of Object.values(kamina.subgraphs)) {
      // Behind the gateway's signature the subgraph checks the token itself...
      const signed = await postAsGateway(kamina, subgraph.url, "{ __typename }", undefined, bearer(access));
      assertRefused(signed, revokedCode, `at the ${subgraph.name} subgraph port, signed as the gateway`);
      // ...and reached directly it refuses before the token is looked at.
      const direct = await postGraphQL(subgraph.url, "{ __typename }", undefined, bearer(access));
      assertRefused(direct, "GATEWAY_SIGNATURE_REQUIRED", `at the ${subgraph.name} subgraph port, unsigned`, /serves only the gateway/);
    }
    const refused = subscribe(access);
    const refusedClosed = await within(refused.closed, 5_000, "a new subscription");
    assert.equal(refusedClosed.code, revokedAtConnect, refusedClosed.reason);
    assert.match(refusedClosed.reason, /suspended/);
    await raiseAlert(prisma, PERSON_A);
    assert.equal(live.results.length + refused.results.length, 0, "no event reached a suspended client");

    // No new tokens either: the token endpoint authenticates the client first.
    assertEnvelope(await call("POST", "/v1/auth/token", { headers: sandbox, form: { grant_type: "client_credentials" } }), 403, "FORBIDDEN", /suspended/);
  });

  test("reinstated, it gets new tokens by refreshing, and none it held before the suspension reads again", async () => {
    await clientStatusScript(database.url, "reinstate", DEMO_CLIENT); // left suspended by the test above, or not
    const before = await grant();
    const clientBefore = (await call("POST", "/v1/auth/token", { headers: sandbox, form: { grant_type: "client_credentials" } })).body.access_token as string;
    assertReads(await me(before.access), "before");
    assert.equal((await suspendClient(prisma, DEMO_CLIENT)).changed, true);
    assert.equal((await suspendClient(prisma, DEMO_CLIENT)).changed, false, "suspending twice changes nothing");
    // Refused while suspended, even with the refresh token.
    assertEnvelope(await refresh(before.refresh), 403, "FORBIDDEN", /suspended/);

    const said = await clientStatusScript(database.url, "reinstate", DEMO_CLIENT);
    assert.match(said, /ACTIVE again/);
    assertRefused(await me(before.access), "UNAUTHENTICATED", "an access token from before the suspension", /issued before client of_lab_demo was suspended/);
    assertRefused(await debtsDirect(before.access), "UNAUTHENTICATED", "the same at a subgraph port", /issued before/);
    const asClient = await postGraphQL(kamina.graphqlUrl, `query($id: ID!) { user(id: $id) { id } }`, { id: PERSON_A }, bearer(clientBefore));
    assertRefused(asClient, "UNAUTHENTICATED", "a client-credentials token from before the suspension", /issued before/);

    const refreshed = await refresh(before.refresh);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    const access = refreshed.body.access_token as string;
    assertReads(await me(access), "a refreshed token at the gateway");
    assertReads(await debtsDirect(access), "a refreshed token at a subgraph port");
    const base = subscribers();
    const live = subscribe(access);
    await subscribed(base);
    const alertId = await raiseAlert(prisma, PERSON_A);
    const [result] = await live.take(1);
    assert.equal((result!.data as { alertCreated: { id: string } }).alertCreated.id, alertId);
  });

  test("the operator script names an unknown client and a missing argument", async () => {
    await assert.rejects(clientStatusScript(database.url, "suspend", "no_such_client"), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr ?? "", /No client no_such_client/);
      return true;
    });
    await assert.rejects(promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/client-status.ts", "suspend"], { cwd: REPO_ROOT }), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr ?? "", /usage: npm run client:suspend/);
      return true;
    });
  });

  test("client authentication takes a NUL or another control character in the Basic client id as an unknown client: 401, never 500", async () => {
    for (const id of ["of_lab\u0000demo", "\u0000", "of_lab_demo\u0000", "of\nlab", "of_lab_demo\u007f"]) {
      const answer = await call("POST", "/v1/auth/token", { headers: basic(id, TEST_SANDBOX_SECRET), form: { grant_type: "client_credentials" } });
      assertEnvelope(answer, 401, "UNAUTHENTICATED", /Client authentication failed/);
    }
  });
});

describe("the cut-off a suspension sets", () => {
  const suspendedAt = new Date("2026-12-06T18:00:00.400Z");
  const second = Math.floor(suspendedAt.getTime() / 1000);

  test("refuses every token issued up to the second of the suspension, and none after it", () => {
    assert.equal(issuedBeforeCutoff(second - 1, suspendedAt), true);
    assert.equal(issuedBeforeCutoff(second, suspendedAt), true, "the same second cannot be told apart");
    assert.equal(issuedBeforeCutoff(second + 1, suspendedAt), false);
    assert.equal(issuedBeforeCutoff(undefined, suspendedAt), true, "no iat, no proof it is newer");
    assert.equal(issuedBeforeCutoff(second, null), false, "never suspended");
  });

  test("reinstatement waits for the next whole second, so new tokens are newer", () => {
    assert.equal(firstMomentAfterCutoff(suspendedAt), (second + 1) * 1000);
    assert.equal(issuedBeforeCutoff(Math.floor(firstMomentAfterCutoff(suspendedAt) / 1000), suspendedAt), false);
  });
});
