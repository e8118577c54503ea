/**
 * HTTP services running in this process, by origin, so that a caller in the same process (the
 * gateway calling the subgraphs `npm start` runs beside it) reaches them without a socket: the
 * same method, headers, body and answer, minus the loopback TCP, the HTTP parsing on both sides
 * and the Fetch API's Request, Response and body streams (8 % of the server's busy time in
 * bench:realtime's cross-subgraph window when they were used). A service that stops is taken
 * out, and calls go over the network again (and fail as they would).
 */
import type { HeaderMap } from "@apollo/server";

/** A request to a service of this process, as the caller would have sent it over HTTP. */
export interface InProcessRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** The service's answer: what its HTTP response would have carried. */
export interface InProcessAnswer {
  status: number;
  headers: HeaderMap;
  body: string;
}

export type InProcessHandler = (request: InProcessRequest) => Promise<InProcessAnswer>;

const handlers = new Map<string, InProcessHandler>();

/** Serves `origin` in-process until the returned function is called. */
export function serveInProcess(origin: string, handler: InProcessHandler): () => void {
  handlers.set(origin, handler);
  return () => {
    if (handlers.get(origin) === handler) handlers.delete(origin);
  };
}

/** The in-process answer to a request, or undefined when no service of this process has that origin. */
export function callInProcess(request: InProcessRequest): Promise<InProcessAnswer> | undefined {
  const handler = handlers.get(new URL(request.url).origin);
  return handler?.(request);
}
