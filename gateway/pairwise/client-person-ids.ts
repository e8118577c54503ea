// Pairwise ids on the REST routes that do not go through GraphQL (consents, receipts, the audit
// log): which id a caller is shown for a person, and which person an id it sends names.
import type { PartnerClient } from "../../generated/prisma/client.ts";
import { environmentOf, PAIRWISE_PREFIX, type PairwiseIds } from "../../platform/auth/pairwise-ids.ts";

/** Shows our id as one caller sees it: a client its pairwise id, the Kamina app our own. */
export type ShowPerson = (ours: string) => string;

export const APP_SEES_OUR_IDS: ShowPerson = (ours) => ours;

export class ClientPersonIds {
  constructor(private readonly ids: PairwiseIds) {}

  showTo(client: Pick<PartnerClient, "id" | "sandbox">): ShowPerson {
    const environment = environmentOf(client);
    return (ours) => this.ids.external(client.id, environment, ours);
  }

  /**
   * The person a consent request names: the client's pairwise id for them, or the id the person
   * gave the partner to be found by (our id, as in the brief's `USR_42891`): asking names a
   * person, and everything answered afterwards, the tokens' `sub` included, is pairwise.
   * Undefined: a pairwise id this client was never given.
   */
  ours(client: Pick<PartnerClient, "id" | "sandbox">, sent: string): string | undefined {
    const translated = this.ids.internal(client.id, environmentOf(client), sent);
    if (translated !== undefined) return translated;
    return sent.startsWith(PAIRWISE_PREFIX) ? undefined : sent;
  }
}
