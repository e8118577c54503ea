// graphql-ws abuse: big messages, no init, bad init, subscribe before the acknowledgement, too many
// sockets, protocol violations, and operations the socket must not run.
import { decodeJwt } from "jose";
import WebSocket from "ws";
import type { Attack, Expectation } from "../attack.ts";
import type { SecurityContext } from "../context.ts";
import { noSubscriptionData, socketOutcome, socketRun } from "../shared.ts";

const init = (ctx: SecurityContext, token = ctx.tokens.a) => JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } });
const subscribe = (query: string, id = "1") => JSON.stringify({ id, type: "subscribe", payload: { query } });
const ALERTS = "subscription { alertCreated { id } }";

const closed = (code: number, means: string): Expectation => ({ status: code, means, check: (o) => noSubscriptionData(o) ?? ((o.body as { messages: { type: string }[] }).messages.some((message) => message.type === "connection_ack") && code !== 4409 && code !== 4429 ? "acknowledged" : undefined) });

const run = (frames: (ctx: SecurityContext) => (string | Buffer)[], waitMs = 2_500, protocol?: string) => async (ctx: SecurityContext) => socketOutcome(await socketRun(ctx.graphqlUrl, frames(ctx), waitMs, protocol));

export const attacks: Attack[] = [
  { id: "graphql-ws/5mb-before-init", class: "graphql-ws", description: "a 5 MB connection_init before any authentication", run: run(() => [JSON.stringify({ type: "connection_init", payload: { authorization: "x".repeat(5 * 1024 * 1024) } })]), expect: closed(1009, "closed 1009, unread") },
  { id: "graphql-ws/100k-subscribe", class: "graphql-ws", description: "a 100 KB subscribe message after the acknowledgement", run: run((ctx) => [init(ctx), subscribe(`subscription { alertCreated { id ${"type ".repeat(20_000)} } }`)]), expect: { status: 1009, means: "closed 1009", check: noSubscriptionData } },
  { id: "graphql-ws/binary-5mb", class: "graphql-ws", description: "a 5 MB binary frame", run: run(() => [Buffer.alloc(5 * 1024 * 1024, 1)]), expect: closed(1009, "closed 1009") },
  { id: "graphql-ws/no-init", class: "graphql-ws", description: "a socket that never sends connection_init", run: run(() => [], 3_000), expect: closed(4408, "closed 4408 once the init wait is over") },
  { id: "graphql-ws/subscribe-before-init", class: "graphql-ws", description: "subscribe before connection_init", run: run((ctx) => [subscribe(ALERTS), init(ctx)]), expect: closed(4401, "closed 4401 Unauthorized") },
  { id: "graphql-ws/init-no-token", class: "graphql-ws", description: "connection_init without a token", run: run(() => [JSON.stringify({ type: "connection_init", payload: {} }), subscribe(ALERTS)]), expect: closed(4401, "closed 4401") },
  { id: "graphql-ws/init-forged-token", class: "graphql-ws", description: "connection_init with an alg-none token", run: run((ctx) => {
    const [, payload] = ctx.tokens.a.split(".");
    return [JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${Buffer.from(JSON.stringify({ alg: "none", typ: "at+jwt" })).toString("base64url")}.${payload}.` } }), subscribe(ALERTS)];
  }), expect: closed(4401, "closed 4401") },
  { id: "graphql-ws/init-payload-string", class: "graphql-ws", description: "connection_init whose payload is a string", run: run(() => [JSON.stringify({ type: "connection_init", payload: "Bearer x" })]), expect: closed(4400, "closed 4400") },
  { id: "graphql-ws/init-payload-array", class: "graphql-ws", description: "connection_init whose payload is an array", run: run(() => [JSON.stringify({ type: "connection_init", payload: ["Bearer x"] })]), expect: closed(4400, "closed 4400") },
  { id: "graphql-ws/init-authorization-object", class: "graphql-ws", description: "connection_init whose authorization is an object", run: run(() => [JSON.stringify({ type: "connection_init", payload: { authorization: { $ne: null } } })]), expect: closed(4401, "closed 4401") },
  { id: "graphql-ws/init-basic", class: "graphql-ws", description: "connection_init with the client's Basic credentials instead of a token", run: run((ctx) => [JSON.stringify({ type: "connection_init", payload: { authorization: ctx.clients.demo.basic.authorization } }), subscribe(ALERTS)]), expect: closed(4401, "closed 4401") },
  { id: "graphql-ws/init-twice", class: "graphql-ws", description: "connection_init sent twice", run: run((ctx) => [init(ctx), init(ctx)]), expect: { status: 4429, means: "closed 4429: too many initialisation requests" } },
  { id: "graphql-ws/not-json", class: "graphql-ws", description: "a message that is not JSON", run: run(() => ["{ not json"]), expect: closed(4400, "closed 4400") },
  { id: "graphql-ws/unknown-type", class: "graphql-ws", description: "a message of an unknown type", run: run((ctx) => [init(ctx), JSON.stringify({ type: "exec", payload: { cmd: "id" } })]), expect: { status: 4400, means: "closed 4400" } },
  { id: "graphql-ws/no-id", class: "graphql-ws", description: "subscribe without an id", run: run((ctx) => [init(ctx), JSON.stringify({ type: "subscribe", payload: { query: ALERTS } })]), expect: { status: 4400, means: "closed 4400", check: noSubscriptionData } },
  { id: "graphql-ws/duplicate-id", class: "graphql-ws", description: "two subscriptions under one id", run: run((ctx) => [init(ctx), subscribe(ALERTS, "dup"), subscribe(ALERTS, "dup")]), expect: { status: 4409, means: "closed 4409: subscriber already exists" } },
  { id: "graphql-ws/proto-id", class: "graphql-ws", description: "a subscription id __proto__", run: run((ctx) => [init(ctx), subscribe(ALERTS, "__proto__"), subscribe(ALERTS, "__proto__")]), expect: { status: 4409, means: "closed 4409" } },
  { id: "graphql-ws/legacy-protocol", class: "graphql-ws", description: "the legacy subscriptions-transport-ws subprotocol", run: run((ctx) => [JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${ctx.tokens.a}` } }), JSON.stringify({ id: "1", type: "start", payload: { query: ALERTS } })], 2_500, "graphql-ws"), expect: { status: 1006, means: "the upgrade is refused: no socket, no message", check: (o) => ((o.body as { messages: unknown[] }).messages.length === 0 ? undefined : "messages came") } },
  { id: "graphql-ws/query-over-socket", class: "graphql-ws", description: "a query (not a subscription) over the socket", run: run((ctx) => [init(ctx), subscribe("{ me { id debts { balance } } }")]), expect: { status: 0, code: "BAD_REQUEST", means: "an error for the operation (subscriptions only), socket open", check: noSubscriptionData } },
  { id: "graphql-ws/mutation-over-socket", class: "graphql-ws", description: "a mutation over the socket", run: run((ctx) => [init(ctx), subscribe("mutation { runDiagnosis { score } }")]), expect: { status: 0, code: "BAD_REQUEST", means: "an error for the operation (subscriptions only), socket open", check: noSubscriptionData } },
  { id: "graphql-ws/deep-subscription", class: "graphql-ws", description: "a subscription over the depth limit", run: run((ctx) => {
    let selection = "id";
    for (let level = 0; level < 11; level++) selection = `user { alerts { ${selection} } }`;
    return [init(ctx), subscribe(`subscription { alertCreated { ${selection} } }`)];
  }), expect: { status: 0, code: "OPERATION_TOO_COMPLEX", means: "an error naming the depth limit", check: noSubscriptionData } },
  { id: "graphql-ws/two-root-fields", class: "graphql-ws", description: "a subscription with two root fields", run: run((ctx) => [init(ctx), subscribe("subscription { a: alertCreated { id } b: alertCreated { id } }")]), expect: { status: 0, code: "GRAPHQL_VALIDATION_FAILED", check: noSubscriptionData } },
  { id: "graphql-ws/expired-at-init", class: "graphql-ws", description: "connection_init with a token that expired (exp in the past, otherwise real)", run: async (ctx) => {
    const { SignJWT } = await import("jose");
    const signer = await ctx.kamina.gateway!.auth.keys.signer();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ ...decodeJwt(ctx.tokens.a), iat: now - 7200, nbf: now - 7200, exp: now - 3600 }).setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: "at+jwt" }).sign(signer.key);
    return socketOutcome(await socketRun(ctx.graphqlUrl, [init(ctx, token), subscribe(ALERTS)], 2_500));
  }, expect: closed(4401, "closed 4401") },
  {
    id: "graphql-ws/many-sockets",
    class: "graphql-ws",
    description: "one client opens more sockets than WS_MAX_CONNECTIONS_PER_CLIENT (8 here)",
    phase: "serial",
    run: async (ctx) => {
      const open: WebSocket[] = [];
      try {
        for (let index = 0; index < 8; index++) {
          const socket = new WebSocket(ctx.graphqlUrl.replace(/^http/, "ws"), "graphql-transport-ws");
          await new Promise<void>((resolve, reject) => {
            socket.on("open", () => socket.send(init(ctx, ctx.tokens.second)));
            socket.on("message", () => resolve());
            socket.on("error", reject);
            socket.on("close", (code) => reject(new Error(`socket ${index} closed ${code}`)));
          });
          open.push(socket);
        }
        return socketOutcome(await socketRun(ctx.graphqlUrl, [init(ctx, ctx.tokens.second)], 2_500));
      } finally {
        for (const socket of open) socket.terminate();
      }
    },
    expect: { status: 4429, means: "the ninth socket closed 4429" },
  },
];
