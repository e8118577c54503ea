import type { Country } from "../../generated/prisma/enums.ts";

/**
 * Who is asking, from the verified token. Built once per request by the token check;
 * null when the request carries no token.
 */
export interface Viewer {
  clientId: string;
  /** The user a consent token is bound to; absent for a partner (client-credentials) token. */
  userId?: string;
  consentId?: string;
  country?: Country;
  scopes: ReadonlySet<string>;
}

export interface SubgraphContext<Loaders> {
  requestId: string;
  viewer: Viewer | null;
  loaders: Loaders;
}
