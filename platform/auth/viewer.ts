import type { Country } from "../../generated/prisma/enums.ts";
import type { Environment } from "./pairwise-ids.ts";

/**
 * Who is asking, from a verified token.
 * - `consent`: bound to one person through one authorised consent; scopes come from it.
 * - `client`: a partner's client-credentials token; it reaches only people who hold an
 *   authorised consent for that client, each with that person's own scopes.
 */
export type Viewer =
  | {
      kind: "consent";
      clientId: string;
      userId: string;
      consentId: string;
      country: Country;
      /** The client's environment (the token's `env`): with the client, which pairwise ids it is shown. */
      environment: Environment;
      scopes: ReadonlySet<string>;
      tokenId: string;
    }
  | {
      kind: "client";
      clientId: string;
      countries: readonly Country[];
      /** The client's consent version read with the token (see ConsentGrants). */
      consentVersion: string;
      environment: Environment;
      /** Per-client scopes, plus the user scopes this client may ask for (each person's consent narrows them). */
      scopes: ReadonlySet<string>;
      tokenId: string;
    };
