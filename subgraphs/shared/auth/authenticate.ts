import type { IncomingMessage } from "node:http";
import { AuthenticationError, unauthenticated, type TokenVerifier } from "./token-verifier.ts";
import type { Viewer } from "./viewer.ts";

export interface Authenticated {
  viewer: Viewer;
  authorization: string;
  dpop: string | undefined;
}

/**
 * The one place a GraphQL request is authenticated, on the gateway and on every subgraph:
 * no token, or a token that fails verification, is a 401 UNAUTHENTICATED for the whole
 * request, never a partial answer.
 */
export async function authenticate(verifier: TokenVerifier, request: IncomingMessage): Promise<Authenticated> {
  const authorization = request.headers.authorization;
  try {
    const verified = await verifier.verifyAuthorization(authorization);
    if (!verified || !authorization) throw new AuthenticationError("A bearer access token is required");
    const dpop = request.headers.dpop;
    return { viewer: verified.viewer, authorization, dpop: typeof dpop === "string" ? dpop : undefined };
  } catch (error) {
    if (error instanceof AuthenticationError) throw unauthenticated(error.reason);
    throw error;
  }
}
