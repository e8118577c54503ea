import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parse } from "graphql";
import type { PrismaClient } from "../platform/database/database.ts";
import type { GatewayContext } from "../gateway/context.ts";
import { ReceiptCollector } from "../gateway/scopes/receipts.ts";
import { PersonPrefetch } from "../gateway/subscriptions/person-prefetch.ts";
import { startTestKamina } from "./support/kamina.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { PERSON_A, PERSON_B, raiseAlert, createRealtimeDatabase, TestSubscription } from "./support/realtime.ts";
import { consentToken, sandboxCredentials } from "../testkit/tokens.ts";

// A federated delivery starts its person's fetches (`alertCreated.user`) beside the alert's own
// fetch (gateway/subscriptions/person-prefetch.ts). These tests hold it to what the plan's own
// fetch would do: each delivery's person under its own token, receipted only when delivered,
// and refused by the subgraph when the consent is gone.

type Kamina = Awaited<ReturnType<typeof startTestKamina>>;

const FEDERATED = /* GraphQL */ `
  subscription PersonOfAlert {
    alertCreated { id user { id wellness { score band } } }
  }
`;
const ENV = { SUBSCRIPTION_RECHECK_SECONDS: "60", RELAY_POLL_MS: "100", WEBHOOK_POLL_MS: "100" };

function alertOf(result: { data?: unknown }): Record<string, any> {
  return (result.data as { alertCreated: Record<string, any> }).alertCreated;
}

function consentIdOf(token: string): string {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")).consent_id as string;
}

describe("a federated delivery's person fetch", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Kamina;
  const open: TestSubscription[] = [];

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 }, ENV);
  });

  after(async () => {
    await Promise.all(open.map((subscription) => subscription.dispose().catch(() => undefined)));
    await kamina?.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  /** The viewer of `token`, as the delivery's token check finds it. */
  async function checked(token: string) {
    const verified = await kamina.gateway!.subscriptions.hub.options.verifier.verifyAuthorization(`Bearer ${token}`);
    assert.ok(verified);
    return verified.viewer;
  }

  /** A person fetch of FEDERATED's plan, started for `personId` under `token`, as a delivery starts it (with the check's seal, when given). */
  function startedFor(token: string, viewer: GatewayContext["viewer"], personId: string, seal: string | undefined) {
    const { planner, services } = kamina.gateway!.subscriptions.hub.options;
    const plan = planner.plan(parse(FEDERATED), "PersonOfAlert", viewer.scopes, FEDERATED);
    const [fetch] = plan.personFetches.get("wellness") ?? [];
    assert.ok(fetch, "the plan has a person fetch to the wellness subgraph");
    const receipts = new ReceiptCollector();
    const context: GatewayContext = { requestId: `test-${personId}`, viewer, authorization: `Bearer ${token}`, ...(seal ? { tokenCheck: seal } : {}), receipts };
    const prefetch = new PersonPrefetch(services.wellness!, [fetch], personId, { context, request: { variables: {} } });
    const send = (id: string) =>
      prefetch.process({
        kind: "incoming operation",
        request: { query: fetch.operation, variables: { representations: [{ __typename: "User", id }] }, operationName: fetch.operationName },
        context,
      } as unknown as Parameters<PersonPrefetch["process"]>[0]);
    return { send, receipts };
  }

  test("two people's alerts at the same moment each come with their own person's wellness and receipt", async () => {
    const tokenA = await consentToken(kamina, PERSON_A);
    const tokenB = await consentToken(kamina, PERSON_B);
    const asA = new TestSubscription(kamina.graphqlUrl, `Bearer ${tokenA}`, FEDERATED, {});
    const asB = new TestSubscription(kamina.graphqlUrl, `Bearer ${tokenB}`, FEDERATED, {});
    open.push(asA, asB);
    await Promise.all([asA.ready(), asB.ready()]);
    const [alertA, alertB] = await Promise.all([raiseAlert(prisma, PERSON_A), raiseAlert(prisma, PERSON_B)]);
    const [[resultA], [resultB]] = await Promise.all([asA.take(1), asB.take(1)]);
    assert.equal(resultA!.errors, undefined, JSON.stringify(resultA!.errors));
    assert.deepEqual(alertOf(resultA!), { id: alertA, user: { id: PERSON_A, wellness: { score: 64, band: "AMBER" } } });
    assert.equal(resultB!.errors, undefined, JSON.stringify(resultB!.errors));
    assert.deepEqual(alertOf(resultB!), { id: alertB, user: { id: PERSON_B, wellness: null } });

    // A's delivery is receipted under A's consent with the wellness it carried; B's carried none, so none under B's.
    const receipts = await prisma.auditEvent.findMany({
      where: { action: "consent.receipt", consentId: { in: [consentIdOf(tokenA), consentIdOf(tokenB)] }, requestId: { startsWith: "sub-" } },
      select: { consentId: true, userId: true, fields: true },
    });
    assert.deepEqual(receipts, [{ consentId: consentIdOf(tokenA), userId: PERSON_A, fields: ["User.wellness"] }]);
  });

  test("a fetch started for one person answers no request for another, and is receipted only when taken", async () => {
    const tokenA = await consentToken(kamina, PERSON_A);
    const viewer = await checked(tokenA);
    const { send, receipts } = startedFor(tokenA, viewer, PERSON_A, kamina.gateway!.subscriptions.hub.options.verifier.sealFor(viewer));
    // The plan asks for B under A's token: the subgraph is asked, and A's consent does not reach B.
    const forB = await send(PERSON_B);
    assert.deepEqual((forB.data as { _entities: unknown[] })._entities, [null]);
    assert.ok(receipts.isEmpty, JSON.stringify(receipts.report()));
    // The plan asks for A: the started fetch answers, and only now is its receipt report the delivery's.
    const forA = await send(PERSON_A);
    assert.deepEqual((forA.data as { _entities: unknown[] })._entities, [{ wellness: { score: 64, band: "AMBER" } }]);
    assert.deepEqual(Object.keys(receipts.report()), [consentIdOf(tokenA)]);
  });

  test("a fetch started once the consent is revoked is refused by the subgraph, and nothing is receipted", async () => {
    const tokenA = await consentToken(kamina, PERSON_A);
    const viewer = await checked(tokenA);
    const revoked = await fetch(`${kamina.gateway!.origin}/v1/consents/${consentIdOf(tokenA)}`, {
      method: "DELETE",
      headers: { "content-type": "application/json", ...sandboxCredentials(kamina) },
      body: JSON.stringify({ reason: "the person withdrew it" }),
    });
    assert.equal(revoked.status, 200);
    // A delivery's token check, which comes before any fetch, refuses it now.
    await assert.rejects(checked(tokenA), /revoked|consent/i);
    // A fetch started without that check's seal: the subgraph checks the token itself and serves nothing.
    const { send, receipts } = startedFor(tokenA, viewer, PERSON_A, undefined);
    await assert.rejects(send(PERSON_A), /401|Unauthorized/);
    assert.ok(receipts.isEmpty, JSON.stringify(receipts.report()));
  });
});
