// A TCP load balancer on loopback, as partners reach a deployment's gateways: each connection
// goes to the next backend in turn, and to the one after when a backend refuses (a killed gateway).
import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface TcpBalancer {
  port: number;
  /** Connections forwarded to each backend port so far. */
  forwarded: Map<number, number>;
  close(): Promise<void>;
}

export async function startTcpBalancer(backends: readonly number[]): Promise<TcpBalancer> {
  let next = 0;
  const forwarded = new Map<number, number>(backends.map((port) => [port, 0]));
  const sockets = new Set<Socket>();
  const server: Server = createServer((incoming) => {
    sockets.add(incoming);
    incoming.once("close", () => sockets.delete(incoming));
    incoming.pause();
    const start = next++ % backends.length;
    const attempt = (tried: number) => {
      if (tried >= backends.length) return incoming.destroy();
      const port = backends[(start + tried) % backends.length]!;
      const outgoing = connect(port, "127.0.0.1");
      // Refused before connecting: the next backend. (Once connected, errors end both sides, below.)
      outgoing.once("error", () => attempt(tried + 1));
      outgoing.once("connect", () => {
        forwarded.set(port, (forwarded.get(port) ?? 0) + 1);
        sockets.add(outgoing);
        outgoing.once("close", () => sockets.delete(outgoing));
        outgoing.removeAllListeners("error");
        outgoing.on("error", () => incoming.destroy());
        incoming.on("error", () => outgoing.destroy());
        outgoing.once("close", () => incoming.destroy());
        incoming.once("close", () => outgoing.destroy());
        incoming.pipe(outgoing);
        outgoing.pipe(incoming);
        incoming.resume();
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
