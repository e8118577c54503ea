import type { IncomingMessage } from "node:http";
import { checkTokenBinding, dpopHeader, DpopError, invalidDpopProof, type PresentedToken, type ProofPolicy } from "./dpop.ts";
import { TOKEN_CHECK_HEADER } from "./token-check-seal.ts";
import { AuthenticationError, unauthenticated, type TokenVerifier, type VerifiedToken } from "./token-verifier.ts";
import type { Viewer } from "./viewer.ts";

export interface Authenticated {
  viewer: Viewer;
  authorization: string;
  /** The DPoP proof the request came with, for a bound token (forwarded to the subgraphs). */
  dpop: string | undefined;
}

/**
 * The one place a GraphQL request is authenticated, on the gateway and on every subgraph:
 * no token, or a token that fails verification, is a 401 UNAUTHENTICATED (CONSENT_REVOKED when
 * the consent behind it has ended) for the whole request, never a partial answer, with its
 * `WWW-Authenticate` challenge. A token bound to a key (RFC 9449) without the `DPoP`
 * scheme and a valid proof is a 401 INVALID_DPOP_PROOF; `proofs` says how much of the proof
 * this server can check (the gateway all of it, a subgraph what survives forwarding).
 * `acceptGatewaySeal` (subgraphs only): a valid gateway seal for this token stands in for the
 * repeated database check (token-check-seal.ts); the gateway itself never accepts one.
 */
export async function authenticate(
  verifier: TokenVerifier,
  request: IncomingMessage,
  proofs: ProofPolicy,
  options: { acceptGatewaySeal?: boolean } = {},
): Promise<Authenticated> {
  const authorization = request.headers.authorization;
  try {
    const seal = options.acceptGatewaySeal ? request.headers[TOKEN_CHECK_HEADER] : undefined;
    const verified = await verifier.verifyAuthorization(authorization, typeof seal === "string" ? seal : undefined);
    if (!verified || !authorization) throw new AuthenticationError("A bearer access token is required");
    const dpop = await checkTokenBinding(presented(verified), dpopHeader(request), request, proofs);
    return { viewer: verified.viewer, authorization, dpop };
  } catch (error) {
    if (error instanceof AuthenticationError) throw unauthenticated(error.reason, error.code, authorization);
    if (error instanceof DpopError) throw invalidDpopProof(error.message);
    throw error;
  }
}

/** The scheme, token and key binding of a verified token. */
export function presented(verified: VerifiedToken): PresentedToken {
  const { cnf } = verified.claims;
  if (cnf !== undefined && (typeof cnf !== "object" || cnf === null || typeof cnf.jkt !== "string")) throw new AuthenticationError("The token is not valid");
  return { scheme: verified.scheme, token: verified.token, jkt: cnf?.jkt };
}
