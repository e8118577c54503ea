// The rule "an authorised, unexpired consent (that covers a scope)" as one SQL condition, for every
// read of consents: a partner's reads (consent-grants.ts), subscriptions and webhook deliveries.
// It renders as plain SQL without parameters because the relay's SQL function
// (realtime/events/relay-outbox.sql) spells the same text: test/relay-outbox-source.test.ts holds
// the two together.
import { Prisma } from "../../generated/prisma/client.ts";
import type { UserScope } from "./scopes.ts";

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** The consent row `alias` is authorised and not expired. */
export function consentIsActive(alias: string): Prisma.Sql {
  if (!IDENTIFIER.test(alias)) throw new Error(`Not a table alias: ${alias}`);
  return Prisma.raw(`${alias}.status = 'AUTHORISED' AND (${alias}.expires_at IS NULL OR ${alias}.expires_at > now())`);
}

/** The consent row `alias` is authorised, not expired, and covers `scope`. */
export function consentCovers(alias: string, scope: UserScope): Prisma.Sql {
  return Prisma.raw(`${consentIsActive(alias).sql} AND '${scope}' = ANY(${alias}.scopes)`);
}
