/**
 * HTTP services running in this process, by origin, so that a caller in the same process (the
 * gateway calling the subgraphs `npm start` runs beside it) reaches them without a socket: the
 * same request, headers and answer, minus the loopback TCP and HTTP parsing on both sides. A
 * service that stops is taken out, and calls go over the network again (and fail as they would).
 */
export type InProcessHandler = (request: Request) => Promise<Response>;

const handlers = new Map<string, InProcessHandler>();

/** Serves `origin` in-process until the returned function is called. */
export function serveInProcess(origin: string, handler: InProcessHandler): () => void {
  handlers.set(origin, handler);
  return () => {
    if (handlers.get(origin) === handler) handlers.delete(origin);
  };
}

/** The in-process answer to a fetch, or undefined when no service of this process has that origin. */
export function fetchInProcess(input: string, init: RequestInit): Promise<Response> | undefined {
  const handler = handlers.get(new URL(input).origin);
  return handler?.(new Request(input, init));
}
