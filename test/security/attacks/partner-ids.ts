// A partner's own ids (issue 21, item 1): one client's customer id names nobody for another, its
// ids are never shown to another, and only the Kamina app links them.
import { bearer } from "../../../testkit/tokens.ts";
import { dataOf, refused, type Attack } from "../attack.ts";
import type { SecurityContext } from "../context.ts";

const DEMO_CUSTOMER_ID = "SEC-CIF-0001";

/** The app links the demo client's customer id to person B (the setup, not the attack; idempotent). */
async function linkForDemo(ctx: SecurityContext): Promise<void> {
  const linked = await ctx.rest("PUT", `/v1/app/users/${ctx.people.b}/partner-ids/${ctx.clients.demo.id}`, {
    headers: { "x-kamina-app-key": ctx.env.APP_API_KEY! },
    json: { customer_id: DEMO_CUSTOMER_ID, bureau_id: "SEC-BUREAU-0001" },
  });
  if (linked.status !== 200) throw new Error(`linking the demo client's ids answered ${linked.status}`);
}

export const attacks: Attack[] = [
  {
    id: "partner-ids/another-clients-customer-id-at-consent",
    class: "partner-ids",
    description: "the live client asks for consent naming the person by the demo client's customer id",
    run: async (ctx) => {
      await linkForDemo(ctx);
      return ctx.rest("POST", "/v1/auth/consent", {
        headers: ctx.clients.live.basic,
        json: { client_id: ctx.clients.live.id, customer_id: DEMO_CUSTOMER_ID, scopes: ["wellness.read"], country: "MX", consent_text_version: "2026-05-01" },
      });
    },
    expect: { ...refused.notFound, means: "404 NOT_FOUND: a customer id finds a person for its own client only, and the answer does not echo it", check: (o) => (JSON.stringify(o.body).includes(DEMO_CUSTOMER_ID) ? "the id is echoed" : undefined) },
  },
  {
    id: "partner-ids/another-clients-ids-read",
    class: "partner-ids",
    description: "the live client's consent token for person B reads me { partnerRef } after the person linked the demo client's ids",
    run: async (ctx) => {
      await linkForDemo(ctx);
      return ctx.gql(ctx.graphqlUrl, "{ me { id partnerRef { customerId bureauId } } }", {}, bearer(ctx.tokens.liveConsent));
    },
    expect: {
      status: 200,
      code: null,
      means: "200, partnerRef null: another client's ids are never shown",
      check: (o) => {
        const me = (dataOf(o) as { me?: { partnerRef?: unknown } } | null)?.me;
        return me && me.partnerRef === null && !JSON.stringify(o.body).includes("SEC-") ? undefined : `me came back ${JSON.stringify(me)}`;
      },
    },
  },
  {
    id: "partner-ids/client-links-its-own-ids",
    class: "partner-ids",
    description: "the live client, with its own credentials, links a customer id of its choosing to person B",
    run: (ctx) =>
      ctx.rest("PUT", `/v1/app/users/${ctx.people.b}/partner-ids/${ctx.clients.live.id}`, { headers: ctx.clients.live.basic, json: { customer_id: "CIF-CHOSEN-BY-PARTNER" } }),
    expect: { ...refused.unauthenticated, means: "401 UNAUTHENTICATED: only the Kamina app, for the person, links ids" },
  },
];
