// Issue 20, item 1: the deployment as separate processes on PostgreSQL and NATS JetStream (two
// gateways, five subgraphs, two realtime workers). The five-subgraph page reads the same through
// both gateways; subscribers held on both and two webhook endpoints get every one of 1,000
// alerts while a gateway and a worker are killed (SIGKILL), and again while PostgreSQL (a private
// cluster, never the machine's) is restarted. Subscribers resume by cursor (sdk/js/alert-stream.ts)
// through a balancer; duplicates only as docs/realtime.md allows: none per subscription, webhook
// retries of one event under one webhook-id.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { subscribeToAlerts, type AlertStream } from "../sdk/js/alert-stream.ts";
import { allTenants, createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { messageId } from "../domain/alerts/alert-event.ts";
import { Receiver } from "../testkit/webhook-receiver.ts";
import { basic, CONSENT_TEXT_VERSION, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../testkit/tokens.ts";
import { scrapeSample, startTopology, type Topology } from "./support/topology.ts";

const PERSON = "USR_42891";
const ALERTS = 1_000;
const SUBSCRIBERS = 4;
const ENDPOINTS = ["/endpoint-a", "/endpoint-b"];
const FIVE_SUBGRAPHS = `query FiveSubgraphs { users(first: 20) { edges { node { id country wellness { score band } debts { issuer balance } debtSummary { openCount } expenses(first: 5) { totalCount edges { node { amount category } } } incomeStreams { monthlyAmount } coachSessions { intent } alerts { type severity } } } } }`;

interface Subscriber {
  stream: AlertStream;
  /** Alert id -> times delivered. */
  seen: Map<string, number>;
  retries: number;
  eventErrors: number;
  /** Why the stream stopped for good, if it did before the end of the test. */
  stopped?: string;
}


describe("a distributed deployment loses no alert", { timeout: 900_000 }, () => {
  let topology: Topology;
  let prisma: PrismaClient;
  const receiver = new Receiver();
  const subscribers: Subscriber[] = [];
  const credentials = basic(DEMO_CLIENT, TEST_SANDBOX_SECRET);

  const call = async (origin: string, method: string, path: string, body: unknown, headers: Record<string, string> = credentials) => {
    const response = await fetch(`${origin}${path}`, { method, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    const answer = (await response.json()) as Record<string, unknown>;
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };

  before(async () => {
    topology = await startTopology({
      users: 40,
      env: { SUBGRAPH_TIMEOUT_MS: "60000", RELAY_POLL_MS: "200", WEBHOOK_POLL_MS: "100", WEBHOOK_RATE_PER_SECOND: "1000", WEBHOOK_TIMEOUT_MS: "2000", WEBHOOK_BACKOFF_BASE_MS: "200", WEBHOOK_BACKOFF_MAX_MS: "1000", WEBHOOK_MAX_ATTEMPTS: "100" },
    });
    prisma = createPrismaClient({ kind: "postgres", url: topology.databaseUrl, poolSize: 4 }, { access: allTenants("topology-test") });
    await receiver.start();
    const [origin] = topology.gatewayOrigins;
    for (const path of ENDPOINTS) await call(origin!, "POST", "/v1/webhooks", { url: `${receiver.origin}${path}`, events: ["alert.created"] });
    const consent = await call(origin!, "POST", "/v1/auth/consent", { client_id: DEMO_CLIENT, user_external_id: PERSON, scopes: ["alerts.read", "wellness.read"], country: "MX", consent_text_version: CONSENT_TEXT_VERSION });
    const token = consent.access_token as string;
    for (let index = 0; index < SUBSCRIBERS; index++) {
      const subscriber: Subscriber = { seen: new Map(), retries: 0, eventErrors: 0, stream: undefined as unknown as AlertStream };
      subscriber.stream = subscribeToAlerts({
        url: `ws://127.0.0.1:${topology.balancer.port}/graphql`,
        token,
        webSocketImpl: WebSocket,
        retry: { baseMs: 100, maxMs: 1_000 },
        onAlert: (alert) => void subscriber.seen.set(alert.id, (subscriber.seen.get(alert.id) ?? 0) + 1),
        onRetry: () => void subscriber.retries++,
        onEventError: () => void subscriber.eventErrors++,
        onStop: ({ reason, message }) => void (subscriber.stopped ??= `${reason}: ${message}`),
      });
      subscribers.push(subscriber);
    }
    // Held on both gateways (the balancer alternates), counted by each gateway's own metrics.
    await waitFor(async () => {
      const held = await Promise.all(topology.gatewayMetrics.map((origin) => scrapeSample(origin, "kamina_subscriptions_active")));
      return held.every((count) => count >= 1) && held.reduce((sum, count) => sum + count, 0) === SUBSCRIBERS;
    }, 180_000, "four subscriptions held across both gateways");
  });

  after(async () => {
    await Promise.all(subscribers.map((subscriber) => subscriber.stream.stop()));
    await prisma?.$disconnect();
    await receiver.stop();
    await topology?.stop();
  });

  test("the five-subgraph page reads the same through both gateways", async () => {
    const token = (await call(topology.gatewayOrigins[0]!, "POST", "/v1/auth/token", { grant_type: "client_credentials" })).access_token as string;
    const pages = await Promise.all(topology.gatewayOrigins.map((origin) => call(origin, "POST", "/graphql", { query: FIVE_SUBGRAPHS }, { authorization: `Bearer ${token}` })));
    const users = (pages[0]!.data as { users: { edges: { node: { id: string } }[] } } | null)?.users.edges ?? assert.fail(JSON.stringify(pages[0]!.errors));
    assert.ok(users.length > 1, "a page of consented people");
    // The same data; the same errors, in whatever order the parallel subgraph fetches answered.
    const errorsOf = (page: Record<string, unknown>) => ((page.errors as unknown[] | undefined) ?? []).map((error) => JSON.stringify(error)).sort();
    assert.deepEqual(pages[1]!.data, pages[0]!.data);
    assert.deepEqual(errorsOf(pages[1]!), errorsOf(pages[0]!));
    for (const error of (pages[0]!.errors as { extensions?: { code?: string } }[] | undefined) ?? []) assert.equal(error.extensions?.code, "UNAUTHORIZED_FIELD_OR_TYPE");
    const whole = users.map((edge) => edge.node as Record<string, unknown>).filter((node) => node.wellness && node.debts && node.expenses && node.incomeStreams && node.coachSessions);
    assert.ok(whole.length > 0, `someone's fields from all five subgraphs: ${JSON.stringify(users[0])}`);
  });

  test("1,000 alerts reach every subscriber and endpoint while a gateway and a worker are killed", async () => {
    const killed = await raiseAll("kill", async () => {
      await Promise.all([topology.gateways[0]!.kill(), topology.workers[0]!.kill()]);
    });
    await assertAllDelivered(killed.ids);
    assert.ok(subscribers.some((subscriber) => subscriber.retries > 0), "the killed gateway's subscribers resumed through the other one");
    await Promise.all([topology.restart("gateway", 0), topology.restart("worker", 0)]);
  });

  test("1,000 alerts reach every subscriber and endpoint while PostgreSQL restarts", async () => {
    const restarted = await raiseAll("restart", async () => {
      topology.postgres.stop("immediate");
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      topology.postgres.start();
    });
    await assertAllDelivered(restarted.ids);
  });

  /** Raises ALERTS alerts, 20 at a time; `disrupt` runs once when 40 % are in, while raising goes on. */
  async function raiseAll(phase: string, disrupt: () => Promise<void>): Promise<{ ids: string[] }> {
    const ids = Array.from({ length: ALERTS }, (_, index) => `alr_topo_${phase}_${String(index).padStart(4, "0")}`);
    let disruption: Promise<void> | undefined;
    for (let start = 0; start < ids.length; start += 20) {
      if (start >= ALERTS * 0.4 && !disruption) disruption = disrupt();
      await Promise.all(ids.slice(start, start + 20).map((id) => raiseOnce(id)));
    }
    await disruption;
    return { ids };
  }

  /** One alert and its outbox row in one transaction; retried across an outage, never written twice. */
  async function raiseOnce(id: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (attempt > 0 && (await prisma.alert.findUnique({ where: { id }, select: { id: true } }))) return;
        await prisma.$transaction([
          prisma.alert.create({ data: { id, userId: PERSON, country: "MX", type: "expense_spike_food", riskBand: "RED", severity: "HIGH", contributingFactors: ["expense_spike_food"], suggestedAction: "soft_outreach_v2" } }),
          prisma.outboxEvent.create({ data: { topic: "alert.created", aggregateId: id, country: "MX", payload: { alertId: id } } }),
        ]);
        return;
      } catch (error) {
        if (attempt > 200) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  async function assertAllDelivered(ids: string[]): Promise<void> {
    const events = await prisma.outboxEvent.findMany({ where: { aggregateId: { in: ids } }, select: { id: true } });
    assert.equal(events.length, ids.length, "one outbox event per alert");
    const webhookIds = new Set(events.map((event) => messageId(event.id)));
    const delivered = (path: string) => new Set((receiver.received.get(path) ?? []).map((request) => request.headers["webhook-id"]).filter((id) => id !== undefined && webhookIds.has(id)));
    await waitFor(
      async () => subscribers.every((subscriber) => ids.every((id) => subscriber.seen.has(id))) && ENDPOINTS.every((path) => delivered(path).size === webhookIds.size),
      240_000,
      () =>
        `every alert delivered: subscribers ${subscribers.map((subscriber) => `${ids.filter((id) => subscriber.seen.has(id)).length}${subscriber.stopped ? ` (stopped: ${subscriber.stopped})` : ""}`).join(", ")} of ${ids.length} ` +
        `(missing: ${subscribers.map((subscriber) => ids.filter((id) => !subscriber.seen.has(id)).join(" ")).join(" | ")}); endpoints ${ENDPOINTS.map((path) => delivered(path).size).join(", ")} of ${webhookIds.size}\n${stderrOfAll()}`,
    );
    for (const [index, subscriber] of subscribers.entries()) {
      const twice = ids.filter((id) => (subscriber.seen.get(id) ?? 0) > 1);
      assert.deepEqual(twice, [], `subscriber ${index} got no alert twice`);
      assert.equal(subscriber.eventErrors, 0, `subscriber ${index} skipped no event`);
    }
    for (const path of ENDPOINTS) {
      // At least once: a repeat carries the same webhook-id and the same body.
      const first = new Map<string, string>();
      for (const request of receiver.received.get(path) ?? []) {
        const id = request.headers["webhook-id"]!;
        if (!webhookIds.has(id)) continue;
        const body = first.get(id);
        if (body === undefined) first.set(id, request.body);
        else assert.equal(request.body, body, `${path}: a repeated delivery of ${id} is the same message`);
      }
    }
  }

  function stderrOfAll(): string {
    return [...topology.subgraphs, ...topology.gateways, ...topology.workers].map((piece) => `--- ${piece.name} (${piece.exitStatus()})\n${piece.stderrTail().slice(-1_500)}`).join("\n");
  }
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, message: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) assert.fail(typeof message === "string" ? message : message());
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
