// Not attacks: what several attack modules share (a setup done once, a graphql-ws socket as an
// attacker drives it by hand).
import WebSocket from "ws";
import type { Outcome } from "./outcome.ts";
import type { SecurityContext } from "./context.ts";

/** `make` runs once per context; every caller shares its promise. */
export function once<T>(make: (ctx: SecurityContext) => Promise<T>): (ctx: SecurityContext) => Promise<T> {
  const made = new WeakMap<SecurityContext, Promise<T>>();
  return (ctx) => {
    let promise = made.get(ctx);
    if (!promise) {
      promise = make(ctx);
      made.set(ctx, promise);
    }
    return promise;
  };
}

export interface SocketRun {
  /** The close code, or 0 while still open when the run ended. */
  code: number;
  reason: string;
  acknowledged: boolean;
  messages: Record<string, unknown>[];
}

/**
 * Opens a graphql-transport-ws socket and sends `frames` (strings or buffers, in order: the first
 * right away, each next one after the previous message was answered or 150 ms passed), then
 * waits until the server closes it or `waitMs` passes, and closes it.
 */
export function socketRun(url: string, frames: (string | Buffer)[], waitMs = 3_000, protocol = "graphql-transport-ws"): Promise<SocketRun> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, "ws"), protocol);
    const run: SocketRun = { code: 0, reason: "", acknowledged: false, messages: [] };
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate();
      resolve(run);
    };
    const timer = setTimeout(finish, waitMs);
    let acknowledged: () => void = () => undefined;
    const ack = new Promise<void>((done) => (acknowledged = done));
    socket.on("open", async () => {
      for (const frame of frames) {
        if (socket.readyState !== WebSocket.OPEN) break;
        socket.send(frame);
        // After connection_init, the next frame waits for the acknowledgement (or the close), as a
        // client does: a subscribe sent before it would be refused by the protocol, not by the server.
        const isInit = typeof frame === "string" && frame.startsWith('{"type":"connection_init"');
        await Promise.race([isInit ? ack : new Promise((done) => setTimeout(done, 150)), new Promise((done) => setTimeout(done, isInit ? 2_000 : 150))]);
      }
    });
    socket.on("message", (data) => {
      try {
        const message = JSON.parse(String(data)) as Record<string, unknown>;
        run.messages.push(message);
        if (message.type === "connection_ack") {
          run.acknowledged = true;
          acknowledged();
        }
        // The subscription's answer is in: nothing more will come on it.
        if (message.type === "complete" || message.type === "error") setTimeout(finish, 50);
      } catch {
        run.messages.push({ raw: String(data) });
      }
    });
    socket.on("close", (code, reason) => {
      acknowledged();
      run.code = code;
      run.reason = reason.toString();
      finish();
    });
    socket.on("error", (error) => (finished || run.code ? undefined : (run.reason = error.message)));
    socket.on("unexpected-response", (_request, response) => {
      run.code = response.statusCode ?? 0;
      run.reason = `HTTP ${response.statusCode}`;
      finish();
    });
    void reject;
  });
}

/** The socket's fate as an Outcome: status is the close code, code the first error's code shown on it. */
export function socketOutcome(run: SocketRun): Outcome {
  const error = run.messages.find((message) => message.type === "error") as { payload?: { extensions?: { code?: string } }[] } | undefined;
  const next = run.messages.find((message) => message.type === "next") as { payload?: { errors?: { extensions?: { code?: string } }[] } } | undefined;
  return {
    status: run.code,
    code: error?.payload?.[0]?.extensions?.code ?? next?.payload?.errors?.[0]?.extensions?.code ?? null,
    body: { messages: run.messages, reason: run.reason },
    note: `closed ${run.code} ${run.reason}${next ? "; a result came" : ""}${run.acknowledged ? "; acknowledged" : ""}`,
  };
}

/** Connects with `init` as connection_init's payload, subscribes to `query`, and reports how the socket ended. */
export async function closeCode(ctx: SecurityContext, init: Record<string, unknown>, query: string, waitMs = 3_000): Promise<Outcome> {
  const run = await socketRun(ctx.graphqlUrl, [JSON.stringify({ type: "connection_init", payload: init }), JSON.stringify({ id: "1", type: "subscribe", payload: { query } })], waitMs);
  return socketOutcome(run);
}

/** No subscription result carried data. */
export function noSubscriptionData(outcome: Outcome): string | undefined {
  const messages = (outcome.body as { messages?: { type: string; payload?: { data?: unknown } }[] } | undefined)?.messages ?? [];
  const withData = messages.find((message) => message.type === "next" && message.payload?.data != null);
  return withData ? `a result with data: ${JSON.stringify(withData.payload).slice(0, 200)}` : undefined;
}
