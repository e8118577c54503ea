import type { AnswerHolds } from "../platform/http/answer-holds.ts";
import type { TokenVerifier } from "../platform/auth/token-verifier.ts";
import type { Viewer } from "../platform/auth/viewer.ts";
import type { RequestMeter } from "./rate-limit/request-meter.ts";
import type { ReceiptCollector } from "./scopes/receipts.ts";

/** A billed call: its product, and whether one of its operations has counted it already. */
export interface Billing {
  product: string;
  counted: boolean;
}

/** What the gateway knows about a request, built once from the verified token. */
export interface GatewayContext {
  requestId: string;
  viewer: Viewer;
  /** Forwarded unchanged so every subgraph verifies the token itself. */
  authorization: string;
  /** Forwarded DPoP proof, when the token is bound to a key. */
  dpop?: string;
  /** The gateway's seal of this request's token check, forwarded so subgraphs need not repeat it. */
  tokenCheck?: string;
  /** What the request was counted against (rate-limit/): the RateLimit headers of its answer, and its cost is charged to it. */
  rateLimit?: RequestMeter;
  /** The request's own count, under way (/graphql): the operation waits for it with its cost (graphql-rate-limits.ts). */
  requestCounted?: Promise<void>;
  /** What the subgraphs report they returned, per consent; set by the scoped gateway for each operation. */
  receipts?: ReceiptCollector;
  /**
   * What the request is billed as (pay-per-call metering), shared by every operation a REST route
   * runs for one call so the call is counted once; none on /graphql, where each operation is one `graphql` call.
   */
  billing?: Billing;
  /** The registered text this HTTP request runs, when the gateway enforces trusted documents (trusted-document-gate.ts). */
  trustedDocument?: string;
  /**
   * Where a write the answer must not go out without is handed to the HTTP server (/graphql over
   * HTTP and in process); absent (REST routes), such a write is waited for before the operation returns.
   * Present, the answer is also written out as it is, never changed (a shared one is final: shared-answers.ts).
   */
  holds?: AnswerHolds;
}

/** A request's context once its token is verified and checked; the check is sealed for the subgraphs. */
export function gatewayContext(verifier: TokenVerifier, requestId: string, viewer: Viewer, authorization: string, dpop: string | undefined, rateLimit?: RequestMeter): GatewayContext {
  const tokenCheck = verifier.sealFor(viewer);
  return { requestId, viewer, authorization, ...(dpop ? { dpop } : {}), ...(tokenCheck ? { tokenCheck } : {}), ...(rateLimit ? { rateLimit } : {}) };
}
