import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { seedDatabase } from "../prisma/seed/index.ts";
import { createTestDatabase, type TestDatabase } from "../testkit/postgres.ts";
import { consentToken } from "../testkit/tokens.ts";
import { startTestKamina } from "./support/kamina.ts";

const PERSON = "USR_42891";

interface Opened {
  socket: WebSocket;
  /** The server acknowledged `connection_init`. */
  acknowledged: boolean;
  /** How the server closed the socket, when it did. */
  closed?: { code: number; reason: string };
  messages: Record<string, unknown>[];
}

/** A graphql-ws socket as a partner's device opens it; `init` undefined sends no connection_init. */
function open(url: string, init: Record<string, unknown> | undefined, first?: string | Buffer): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, "ws"), "graphql-transport-ws");
    const opened: Opened = { socket, acknowledged: false, messages: [] };
    socket.on("open", () => {
      if (first !== undefined) socket.send(first);
      if (init) socket.send(JSON.stringify({ type: "connection_init", payload: init }));
    });
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      opened.messages.push(message);
      if (message.type === "connection_ack") {
        opened.acknowledged = true;
        resolve(opened);
      }
    });
    socket.on("close", (code, reason) => {
      opened.closed = { code, reason: reason.toString() };
      resolve(opened);
    });
    socket.on("error", (error) => (opened.closed ? undefined : reject(error)));
  });
}

function closeAndWait(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) return resolve();
    socket.once("close", () => resolve());
    socket.close();
  });
}

/** The next message of a type on an opened socket. */
function nextMessage(opened: Opened, type: string): Promise<Record<string, unknown>> {
  const known = opened.messages.find((message) => message.type === type);
  if (known) return Promise.resolve(known);
  return new Promise((resolve) => {
    const listener = (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      if (message.type !== type) return;
      opened.socket.off("message", listener);
      resolve(message);
    };
    opened.socket.on("message", listener);
  });
}

describe("subscription sockets: message size, sockets per client and the connection_init wait are limited", () => {
  let database: TestDatabase;
  let kamina: Awaited<ReturnType<typeof startTestKamina>>;
  let init: Record<string, unknown>;
  const sockets: WebSocket[] = [];

  before(async () => {
    database = await createTestDatabase();
    await seedDatabase({ kind: "postgres", url: database.url, poolSize: 2 }, { users: 10, seed: 9, sandboxClientSecret: "kamina-sandbox-secret" });
    kamina = await startTestKamina(
      { kind: "postgres", url: database.url, poolSize: 2 },
      { WS_MAX_PAYLOAD_BYTES: String(64 * 1024), WS_MAX_CONNECTIONS_PER_CLIENT: "2", WS_CONNECTION_INIT_TIMEOUT_MS: "1000" },
    );
    init = { authorization: `Bearer ${await consentToken(kamina, PERSON)}` };
  });

  after(async () => {
    await Promise.all(sockets.map(closeAndWait));
    await kamina?.stop();
    await database?.drop();
  });

  test("a 5 MB message closes the socket with 1009 unread, before any authentication", async () => {
    const started = performance.now();
    const opened = await open(kamina.graphqlUrl, undefined, JSON.stringify({ type: "connection_init", payload: { authorization: "x".repeat(5 * 1024 * 1024) } }));
    assert.equal(opened.acknowledged, false);
    assert.equal(opened.closed?.code, 1009);
    assert.ok(performance.now() - started < 2_000);
  });

  test("a message just under the limit is read as usual", async () => {
    const opened = await open(kamina.graphqlUrl, { ...init, padding: "x".repeat(60 * 1024) });
    sockets.push(opened.socket);
    assert.equal(opened.acknowledged, true, JSON.stringify(opened.closed));
    await closeAndWait(opened.socket);
  });

  test("a client's sockets beyond its cap are closed with 4429; closing one frees a place", async () => {
    const first = await open(kamina.graphqlUrl, init);
    const second = await open(kamina.graphqlUrl, init);
    sockets.push(first.socket, second.socket);
    assert.equal(first.acknowledged, true);
    assert.equal(second.acknowledged, true);

    const third = await open(kamina.graphqlUrl, init);
    assert.equal(third.acknowledged, false);
    assert.equal(third.closed?.code, 4429);
    assert.match(third.closed!.reason, /open subscription sockets/);

    await closeAndWait(first.socket);
    // The server counts the close once it has seen it; give it a moment.
    let fourth: Opened | undefined;
    for (let attempt = 0; attempt < 20 && !fourth?.acknowledged; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      fourth = await open(kamina.graphqlUrl, init);
      sockets.push(fourth.socket);
    }
    assert.equal(fourth?.acknowledged, true);
    await Promise.all([closeAndWait(second.socket), closeAndWait(fourth!.socket)]);
  });

  test("a socket that never sends connection_init is closed with 4408 once the wait is over", async () => {
    const started = performance.now();
    const opened = await open(kamina.graphqlUrl, undefined);
    assert.equal(opened.closed?.code, 4408);
    assert.ok(performance.now() - started < 2_500, `closed after the configured second, not the default 3 s: ${(performance.now() - started).toFixed(0)} ms`);
  });

  test("a subscription over the depth limit is refused on its socket with OPERATION_TOO_COMPLEX", async () => {
    const opened = await open(kamina.graphqlUrl, init);
    sockets.push(opened.socket);
    assert.equal(opened.acknowledged, true);
    let selection = "id";
    for (let level = 0; level < 11; level++) selection = `user { alerts { ${selection} } }`;
    opened.socket.send(JSON.stringify({ id: "deep", type: "subscribe", payload: { query: `subscription { alertCreated { ${selection} } }` } }));
    const error = await nextMessage(opened, "error");
    const [first] = error.payload as { message: string; extensions: Record<string, unknown> }[];
    assert.equal(first!.extensions.code, "OPERATION_TOO_COMPLEX", JSON.stringify(error));
    assert.equal(first!.extensions.limit, "depth");
    await closeAndWait(opened.socket);
  });
});
