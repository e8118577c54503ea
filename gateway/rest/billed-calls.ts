import type { IncomingMessage } from "node:http";
import { restProduct } from "../../platform/metering/usage-counter.ts";
import { operationId } from "./route-openapi.ts";

// Which REST route a request called, as pay-per-call metering bills it (`rest:<operationId>`).
// The routes' wrapper names it; the stored operations a data route runs bill it, once per call.

const products = new WeakMap<IncomingMessage, string>();

/** Called by the routes' wrapper for every request it routes. */
export function nameBilledRoute(request: IncomingMessage, method: string, path: string): void {
  products.set(request, restProduct(operationId(method, path)));
}

/** The product a REST call is billed as; none for a request no route took. */
export function billedRouteOf(request: IncomingMessage): string | undefined {
  return products.get(request);
}
