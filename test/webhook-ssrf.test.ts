// Issue 16, cause 1: webhook endpoints may not reach private networks. Every known bypass form is
// refused at registration (REST, as a live partner), the address policy is tabled address by
// address, and at send time the dispatcher resolves the host again and connects only to the
// addresses it checked (DNS rebinding: a name that was public at registration and loopback at send
// time never gets a connection).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from "node:net";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import { after, before, describe, test } from "node:test";
import type { PartnerClient } from "../generated/prisma/client.ts";
import { WebhookEndpoints } from "../gateway/webhooks/webhook-endpoints.ts";
import { CLIENT_SCOPES, USER_SCOPES } from "../platform/auth/scopes.ts";
import { loadConfig } from "../platform/config/config.ts";
import type { PrismaClient } from "../platform/database/database.ts";
import { createLogger } from "../platform/logger.ts";
import { addressRange, checkDestination, type ResolvedAddress, type Resolver } from "../platform/net/public-address.ts";
import { hashSecret } from "../platform/secret-hash.ts";
import { WebhookDispatcher } from "../realtime/webhooks/webhook-dispatcher.ts";
import type { TestDatabase } from "../testkit/postgres.ts";
import { basic, CONSENT_TEXT_VERSION, DEMO_CLIENT, sandboxCredentials } from "../testkit/tokens.ts";
import { startTestKamina } from "./support/kamina.ts";
import { createRealtimeDatabase, PERSON_A } from "./support/realtime.ts";
import { assertEnvelope, rest } from "./support/rest.ts";

/** A live (non-sandbox) partner client holding webhooks.manage. */
const LIVE_CLIENT = "bank_live_ssrf";
const LIVE_SECRET = "live-client-secret-for-ssrf-tests";
const PUBLIC_V4 = "93.184.215.14";

async function createLiveClient(prisma: PrismaClient): Promise<PartnerClient> {
  return prisma.partnerClient.create({
    data: {
      id: LIVE_CLIENT,
      name: "A live bank",
      secretHash: await hashSecret(LIVE_SECRET),
      countries: ["MX"],
      allowedScopes: [...USER_SCOPES],
      clientScopes: [...CLIENT_SCOPES],
      sandbox: false,
    },
  });
}

/** A DNS of the test's own: each name's answer, and every name asked. */
function fakeDns(answers: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    asked.push(hostname);
    const found = answers[hostname];
    if (!found) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Every address form of the issue, refused for a live client. */
const REFUSED_LITERALS: [url: string, why: string][] = [
  ["https://[::ffff:169.254.169.254]/", "IPv4-mapped link-local (cloud metadata)"],
  ["https://[::ffff:a9fe:a9fe]/", "IPv4-mapped, hex spelling"],
  ["https://[::ffff:127.0.0.1]/", "IPv4-mapped loopback"],
  ["https://[::ffff:10.0.0.1]/", "IPv4-mapped private"],
  ["https://[::127.0.0.1]/", "IPv4-compatible loopback"],
  ["https://[::169.254.169.254]/", "IPv4-compatible link-local"],
  ["https://[::ffff:0:7f00:1]/", "IPv4-translated (RFC 6145) loopback"],
  ["https://[64:ff9b::a9fe:a9fe]/", "NAT64 well-known prefix, link-local inside"],
  ["https://[64:ff9b::7f00:1]/", "NAT64 well-known prefix, loopback inside"],
  ["https://[64:ff9b:1::808:808]/", "NAT64 local-use prefix (not globally reachable)"],
  ["https://[2002:7f00:1::1]/", "6to4 of 127.0.0.1"],
  ["https://[2002:a9fe:a9fe::1]/", "6to4 of 169.254.169.254"],
  ["https://[2001:0:808:808::f5ff:fffe]/", "Teredo with a private client (10.0.0.1)"],
  ["https://[2001:0:a00:1::f7f7:f7f7]/", "Teredo with a private server (10.0.0.1)"],
  ["https://[::1]/", "IPv6 loopback"],
  ["https://[::]/", "IPv6 unspecified"],
  ["https://[fe80::1]/", "link-local"],
  ["https://[fe90::1]/", "link-local (fe80::/10, beyond fe80)"],
  ["https://[febf::1]/", "link-local (top of fe80::/10)"],
  ["https://[fec0::1]/", "site-local (deprecated)"],
  ["https://[fd00::1]/", "unique local"],
  ["https://[ff02::1]/", "multicast"],
  ["https://[2001:db8::1]/", "documentation"],
  ["https://[100::1]/", "discard-only"],
  ["https://0.0.0.0/", "this network"],
  ["https://0.1.2.3/", "this network (0.0.0.0/8)"],
  ["https://127.0.0.1/", "loopback"],
  ["https://10.1.2.3/", "private"],
  ["https://172.16.0.1/", "private"],
  ["https://192.168.1.1/", "private"],
  ["https://169.254.169.254/", "link-local (cloud metadata)"],
  ["https://100.64.0.1/", "CGNAT"],
  ["https://100.127.255.254/", "CGNAT (top)"],
  ["https://198.18.0.1/", "benchmarking"],
  ["https://198.19.255.255/", "benchmarking (top)"],
  ["https://224.0.0.1/", "multicast"],
  ["https://239.255.255.250/", "multicast"],
  ["https://255.255.255.255/", "broadcast"],
  ["https://240.0.0.1/", "reserved"],
  ["https://192.0.0.8/", "IETF protocol assignments"],
  ["https://192.0.2.10/", "documentation (TEST-NET-1)"],
  ["https://198.51.100.10/", "documentation (TEST-NET-2)"],
  ["https://203.0.113.10/", "documentation (TEST-NET-3)"],
  ["https://2852039166/", "decimal 169.254.169.254"],
  ["https://0xa9fea9fe/", "hex 169.254.169.254"],
  ["https://0x7f.1/", "hex and short form of 127.0.0.1"],
  ["https://0177.0.0.1/", "octal 127.0.0.1"],
  ["https://127.1/", "short form of 127.0.0.1"],
  ["https://017700000001/", "octal 127.0.0.1, one number"],
];

test("the address policy, address by address: only unicast passes, embedded IPv4 judged as IPv4", () => {
  const table: [address: string, range: string][] = [
    ["8.8.8.8", "unicast"],
    [PUBLIC_V4, "unicast"],
    ["2606:4700:4700::1111", "unicast"],
    ["::ffff:8.8.8.8", "unicast"],
    ["64:ff9b::808:808", "unicast"],
    ["2002:808:808::1", "unicast"],
    ["2001:0:808:808::f7f7:f7f7", "unicast"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::127.0.0.1", "loopback"],
    ["::ffff:0:7f00:1", "loopback"],
    ["64:ff9b::7f00:1", "loopback"],
    ["2002:7f00:1::1", "loopback"],
    ["::", "unspecified"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::ffff:169.254.169.254", "linkLocal"],
    ["64:ff9b::a9fe:a9fe", "linkLocal"],
    ["2002:a9fe:a9fe::", "linkLocal"],
    ["fe80::1", "linkLocal"],
    ["fe90::1", "linkLocal"],
    ["febf:ffff::1", "linkLocal"],
    ["fec0::1", "deprecatedSiteLocal"],
    ["fc00::1", "uniqueLocal"],
    ["fdff::1", "uniqueLocal"],
    ["ff02::1", "multicast"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["10.0.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["::ffff:10.0.0.1", "private"],
    ["2001:0:808:808::f5ff:fffe", "private"],
    ["2001:0:a00:1::f7f7:f7f7", "private"],
    ["100.64.0.1", "carrierGradeNat"],
    ["198.18.0.1", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.51.100.1", "reserved"],
    ["203.0.113.1", "reserved"],
    ["240.0.0.1", "reserved"],
    ["2001:db8::1", "reserved"],
    ["64:ff9b:1::808:808", "rfc6052"],
    ["100::1", "discard"],
    ["not-an-address", "invalid"],
    ["0x7f.1", "invalid"],
  ];
  for (const [address, range] of table) assert.equal(addressRange(address), range, address);
});

test("the address policy on whole URLs: scheme, credentials, every resolved address, and the sandbox's loopback", async () => {
  const dns = fakeDns({
    "public.example": [PUBLIC_V4, "2606:4700:4700::1111"],
    "mixed.example": [PUBLIC_V4, "10.0.0.7"],
    "mapped.example": ["::ffff:169.254.169.254"],
    "local.example": ["127.0.0.1", "::1"],
  });
  const live = { sandbox: false, resolve: dns };
  const sandbox = { sandbox: true, resolve: dns };
  const passed = await checkDestination("https://public.example/hook", live);
  assert.ok(passed.ok);
  assert.deepEqual(
    passed.addresses.map((entry) => entry.address),
    [PUBLIC_V4, "2606:4700:4700::1111"],
    "the addresses to connect to are the ones checked",
  );
  assert.equal(passed.hostname, "public.example");
  const problem = async (url: string, options: { sandbox: boolean; resolve: Resolver }) => {
    const checked = await checkDestination(url, options);
    return checked.ok ? "ok" : checked.problem;
  };
  assert.equal(await problem("https://mixed.example/hook", live), "not-public", "one private address among public ones is enough to refuse");
  assert.equal(await problem("https://mapped.example/hook", live), "not-public");
  assert.equal(await problem("https://local.example/hook", live), "not-public");
  assert.equal(await problem("http://public.example/hook", live), "scheme");
  assert.equal(await problem("https://user:pass@public.example/hook", live), "credentials");
  assert.equal(await problem("https://nowhere.example/hook", live), "unresolvable");
  assert.equal(await problem("not a url", live), "not-a-url");
  assert.equal(await problem("https://[64:ff9b::808:808]/hook", live), "ok", "NAT64 of a public address is public");
  // The sandbox keeps loopback receivers, over http or https, and nothing else that is private.
  assert.equal(await problem("http://local.example:8080/hook", sandbox), "ok");
  assert.equal(await problem("https://[::ffff:127.0.0.1]:8443/hook", sandbox), "ok");
  assert.equal(await problem("http://127.0.0.1:9/hook", sandbox), "ok");
  assert.equal(await problem("https://mapped.example/hook", sandbox), "not-public");
  assert.equal(await problem("http://10.0.0.1/hook", sandbox), "scheme");
  assert.equal(await problem("https://10.0.0.1/hook", sandbox), "not-public");
  assert.equal(await problem("ftp://127.0.0.1/hook", sandbox), "scheme");
  for (const [url, why] of REFUSED_LITERALS) assert.equal(await problem(url, live), "not-public", `${url}: ${why}`);
});

describe("registering a webhook as a live partner (POST /v1/webhooks)", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  const live = basic(LIVE_CLIENT, LIVE_SECRET);

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    await createLiveClient(prisma);
    kamina = await startTestKamina({ kind: "postgres", url: database.url, poolSize: 4 });
  });

  after(async () => {
    await kamina?.stop();
    await prisma?.$disconnect();
    await database?.drop();
  });

  const register = (headers: Record<string, string>, url: string) =>
    rest(kamina.gateway!.origin, "POST", "/v1/webhooks", { headers, json: { url, events: ["alert.created"] } });

  test("every private, reserved or embedded-IPv4 form is refused with 400 BAD_USER_INPUT", async () => {
    for (const [url, why] of REFUSED_LITERALS) {
      const answer = await register(live, url);
      assert.equal(answer.status, 400, `${url} (${why}) was accepted: ${JSON.stringify(answer.body)}`);
      assertEnvelope(answer, 400, "BAD_USER_INPUT", /must resolve to public addresses only/);
    }
    assertEnvelope(await register(live, "http://2852039166/"), 400, "BAD_USER_INPUT", /must be https/);
    assertEnvelope(await register(live, "https://localhost/hook"), 400, "BAD_USER_INPUT", /must resolve to public addresses only/);
    assert.equal(await prisma.webhookEndpoint.count({ where: { clientId: LIVE_CLIENT } }), 0, "nothing was stored");
  });

  test("a public https address is accepted, and the sandbox client keeps its loopback receivers", async () => {
    const accepted = await register(live, `https://${PUBLIC_V4}/hooks`);
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
    const sandbox = await register(sandboxCredentials(kamina), "http://[::ffff:127.0.0.1]:9/hooks");
    assert.equal(sandbox.status, 201, JSON.stringify(sandbox.body));
    assertEnvelope(await register(sandboxCredentials(kamina), "https://[::ffff:169.254.169.254]/"), 400, "BAD_USER_INPUT", /public/);
  });
});

describe("at send time the dispatcher checks the address again and connects only to what it checked", () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let liveClient: PartnerClient;
  let sandboxClient: PartnerClient;
  const config = loadConfig({ LOG_LEVEL: "silent" });
  // A failed attempt waits a minute, so one test's delivery is never sent again by the next test's dispatcher.
  const settings = { ...config.realtime.webhooks, pollMs: 50, timeoutMs: 2_000, backoffBaseMs: 60_000 };
  const kek = config.tokens.keyEncryptionKey;
  const servers: (HttpServer | TcpServer | TlsServer)[] = [];

  before(async () => {
    ({ database, prisma } = await createRealtimeDatabase());
    liveClient = await createLiveClient(prisma);
    sandboxClient = await prisma.partnerClient.findUniqueOrThrow({ where: { id: DEMO_CLIENT } });
    await prisma.consent.create({
      data: {
        id: `cns_ssrf_${randomBytes(4).toString("hex")}`,
        clientId: LIVE_CLIENT,
        userId: PERSON_A,
        country: "MX",
        status: "AUTHORISED",
        scopes: ["alerts.read"],
        consentTextVersion: CONSENT_TEXT_VERSION,
        authorisedAt: new Date(),
      },
    });
    await prisma.consent.create({
      data: {
        id: `cns_ssrf_${randomBytes(4).toString("hex")}`,
        clientId: DEMO_CLIENT,
        userId: PERSON_A,
        country: "MX",
        status: "AUTHORISED",
        scopes: ["alerts.read"],
        consentTextVersion: CONSENT_TEXT_VERSION,
        authorisedAt: new Date(),
      },
    });
  });

  after(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await prisma?.$disconnect();
    await database?.drop();
  });

  async function listen<T extends HttpServer | TcpServer | TlsServer>(server: T): Promise<number> {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }

  /** An alert for PERSON_A with its outbox event and one due delivery to `endpointId`, as the relay writes it. */
  async function queueDelivery(endpointId: string): Promise<string> {
    const alertId = `alr_test_${randomBytes(6).toString("hex")}`;
    await prisma.alert.create({
      data: { id: alertId, userId: PERSON_A, country: "MX", type: "expense_spike_food", riskBand: "RED", severity: "HIGH", contributingFactors: ["missed_due_date"], suggestedAction: "soft_outreach_v2" },
    });
    const event = await prisma.outboxEvent.create({ data: { topic: "alert.created", aggregateId: alertId, country: "MX", payload: { alertId } } });
    const id = `whd_${randomBytes(8).toString("hex")}`;
    await prisma.webhookDelivery.create({ data: { id, endpointId, eventId: event.id, nextAttemptAt: new Date() } });
    return id;
  }

  /** One dispatcher pass with `resolve` as its DNS, until the delivery has an outcome. */
  async function dispatchOnce(resolve: Resolver, deliveryId: string) {
    const dispatcher = new WebhookDispatcher(prisma, settings, { keyEncryptionKey: kek }, createLogger("silent"), resolve);
    try {
      assert.ok((await dispatcher.runOnce()) >= 1, "the dispatcher claimed the delivery");
      await waitFor(async () => (await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } })).leasedUntil === null);
    } finally {
      await dispatcher.stop();
    }
    return prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
  }

  test("DNS rebinding: public at registration, loopback at send time: no connection, the refusal recorded on the delivery", async () => {
    let connections = 0;
    const port = await listen(createTcpServer((socket) => {
      connections++;
      socket.destroy();
    }));
    const url = `https://rebind.example:${port}/hooks`;
    const registrationDns = fakeDns({ "rebind.example": [PUBLIC_V4] });
    const endpoint = await new WebhookEndpoints(prisma, { keyEncryptionKey: kek }, settings.rotationOverlapMs, registrationDns).create(liveClient, url, ["alert.created"]);
    assert.deepEqual(registrationDns.asked, ["rebind.example"]);

    const sendTimeDns = fakeDns({ "rebind.example": ["127.0.0.1", "::ffff:127.0.0.1"] });
    const deliveryId = await queueDelivery(endpoint.id);
    const row = await dispatchOnce(sendTimeDns, deliveryId);

    assert.deepEqual(sendTimeDns.asked, ["rebind.example"], "the host was resolved again at send time");
    assert.equal(connections, 0, "nothing connected to the loopback listener");
    assert.equal(row.status, "FAILED");
    assert.equal(row.attempts, 1, "an attempt, backed off and retried like an unreachable endpoint");
    assert.equal(row.lastStatusCode, null);
    assert.match(row.lastError ?? "", /address is refused: its URL must resolve to public addresses only; nothing was sent/);
    assert.ok(row.nextAttemptAt.getTime() > Date.now(), "the next attempt is backed off");
  });

  test("one private address among public ones at send time is refused too", async () => {
    const endpoint = await new WebhookEndpoints(prisma, { keyEncryptionKey: kek }, settings.rotationOverlapMs, fakeDns({ "half.example": [PUBLIC_V4] })).create(liveClient, "https://half.example/hooks", ["alert.created"]);
    const deliveryId = await queueDelivery(endpoint.id);
    const row = await dispatchOnce(fakeDns({ "half.example": [PUBLIC_V4, "169.254.169.254"] }), deliveryId);
    assert.equal(row.status, "FAILED");
    assert.match(row.lastError ?? "", /address is refused/);
  });

  test("the connection goes to the checked address; the Host header keeps the name", async () => {
    const hosts: string[] = [];
    const port = await listen(createHttpServer((request, response) => {
      hosts.push(request.headers.host ?? "");
      request.resume();
      response.end();
    }));
    // A name no real DNS answers (.example is reserved): only the checked answer can have led here.
    const dns = fakeDns({ "pinned.example": ["127.0.0.1"] });
    const endpoint = await new WebhookEndpoints(prisma, { keyEncryptionKey: kek }, settings.rotationOverlapMs, dns).create(sandboxClient, `http://pinned.example:${port}/hooks`, ["alert.created"]);
    const row = await dispatchOnce(dns, await queueDelivery(endpoint.id));
    assert.equal(row.status, "DELIVERED", row.lastError ?? "");
    assert.deepEqual(hosts, [`pinned.example:${port}`]);
  });

  test("over https the TLS server name is the host name, while the connection goes to the checked address", async () => {
    const serverNames: string[] = [];
    const tls = createTlsServer({
      SNICallback: (name, done) => {
        serverNames.push(name);
        done(new Error("no certificate here: the server name is all this test wants"));
      },
    });
    tls.on("tlsClientError", () => undefined);
    const port = await listen(tls);
    const dns = fakeDns({ "sni.example": ["127.0.0.1"] });
    const endpoint = await new WebhookEndpoints(prisma, { keyEncryptionKey: kek }, settings.rotationOverlapMs, dns).create(sandboxClient, `https://sni.example:${port}/hooks`, ["alert.created"]);
    const row = await dispatchOnce(dns, await queueDelivery(endpoint.id));
    assert.deepEqual(serverNames, ["sni.example"]);
    assert.equal(row.status, "FAILED");
    assert.equal(row.lastError, "The endpoint could not be reached");
  });

  test("a redirect is not followed: it is the answer, and a failure", async () => {
    const paths: string[] = [];
    const port = await listen(createHttpServer((request, response) => {
      paths.push(request.url ?? "");
      request.resume();
      response.writeHead(307, { location: `http://127.0.0.1:${(request.socket.localPort ?? 0)}/elsewhere` }).end();
    }));
    const endpoint = await new WebhookEndpoints(prisma, { keyEncryptionKey: kek }, settings.rotationOverlapMs).create(sandboxClient, `http://127.0.0.1:${port}/moved`, ["alert.created"]);
    const row = await dispatchOnce(fakeDns({}), await queueDelivery(endpoint.id));
    assert.deepEqual(paths, ["/moved"], "nothing went to the redirect's target");
    assert.equal(row.status, "FAILED");
    assert.equal(row.lastStatusCode, 307);
    assert.equal(row.lastError, "The endpoint answered 307");
  });
});
