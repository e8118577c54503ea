import type { Viewer } from "../subgraphs/shared/auth/viewer.ts";
import type { ReceiptCollector } from "./scopes/receipts.ts";

/** What the gateway knows about a request, built once from the verified token. */
export interface GatewayContext {
  requestId: string;
  viewer: Viewer;
  /** Forwarded unchanged so every subgraph verifies the token itself. */
  authorization: string;
  /** Forwarded DPoP proof, when the token is bound to a key. */
  dpop?: string;
  /** What the subgraphs report they returned, per consent; set by the scoped gateway for each operation. */
  receipts?: ReceiptCollector;
}
