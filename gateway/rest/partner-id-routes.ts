// The Kamina app links a partner client's own ids to a person (issue 21, item 1): the client's
// customer id and, optionally, the person's credit-bureau id, as the person confirms them in the
// app. A PUT, idempotent by nature (a retry sets the same ids), so no idempotency record keeps the
// ids in the clear beside the encrypted ones. From then on the client finds the person by its
// customer id at POST /v1/auth/consent and reads its ids beside its pairwise id, and only it.
import { z } from "zod";
import { PARTNER_ID, PARTNER_ID_RULE } from "../../platform/partner-ids/partner-ids.ts";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import type { AuthApi } from "../auth/auth-api.ts";
import type { AuthServices } from "../auth/services.ts";
import { requireApp } from "./callers.ts";
import { RestError } from "./envelope.ts";
import { parseInput, readBody } from "./request-body.ts";
import type { RestRoutes } from "./rest-routes.ts";
import { PERSON_ID, type RouteSpec } from "./route-spec.ts";

const PATH = "/v1/app/users/:user_id/partner-ids/:client_id";
const CLIENT_ID = /^[\w.-]{1,64}$/;

const partnerId = z.string({ error: "must be a string" }).regex(PARTNER_ID, `must be ${PARTNER_ID_RULE}`);

const linkRequest = z.strictObject({
  customer_id: partnerId.describe(`The client's own customer id for the person (${PARTNER_ID_RULE}); unique per client`),
  bureau_id: partnerId.nullable().optional().describe("The person's credit-bureau id as the client knows it; absent or null unlinks a bureau id linked before"),
});

const linkAnswer = z.object({
  user_id: z.string().describe("The person (our id, as the app knows it)"),
  client_id: z.string().describe("The partner client the ids belong to"),
  customer_id: z.string(),
  bureau_id: z.string().nullable(),
  linked_at: z.iso.datetime(),
});

const SPECS = {
  link: {
    summary: "Link a partner client's own ids to a person (Kamina app, for the person)",
    description: [
      "The person confirms in the app that they are this client's customer: the client's customer id, and optionally their credit-bureau id, are stored encrypted and",
      "replace what was linked for this client before. Only that client is shown them (GraphQL `User.partnerRef`, REST `partner_ref`, webhooks, exports),",
      "and only it may name the person by its customer id at POST /v1/auth/consent (`customer_id`). Idempotent: sending the same ids again changes nothing.",
      "A customer or bureau id that already names another person for this client is a 409 CONFLICT; an unknown person or client is NOT_FOUND;",
      "a client that does not serve the person's country is FORBIDDEN.",
    ].join(" "),
    tag: "app-writes",
    caller: "app",
    body: linkRequest,
    responses: { 200: { description: "The ids now linked", schema: linkAnswer } },
    errors: ["BAD_USER_INPUT", "FORBIDDEN", "NOT_FOUND", "CONFLICT"],
  },
  unlink: {
    summary: "Unlink a partner client's own ids from a person (Kamina app, for the person)",
    description: "The client no longer sees them nor finds the person by them. NOT_FOUND when nothing was linked.",
    tag: "app-writes",
    caller: "app",
    responses: { 200: { description: "The ids were removed", schema: z.object({ user_id: z.string(), client_id: z.string(), unlinked: z.number().int() }) } },
    errors: ["BAD_USER_INPUT", "NOT_FOUND"],
  },
} satisfies Record<string, RouteSpec>;

function pathIds(params: Record<string, string | undefined>): { userId: string; clientId: string } {
  const userId = params.user_id ?? "";
  const clientId = params.client_id ?? "";
  if (!PERSON_ID.test(userId)) throw new RestError("BAD_USER_INPUT", "`user_id` must be 1 to 64 letters, digits, `_` or `-`");
  if (!CLIENT_ID.test(clientId)) throw new RestError("BAD_USER_INPUT", "`client_id` must be 1 to 64 letters, digits, `_`, `.` or `-`");
  return { userId, clientId };
}

export function addPartnerIdRoutes(router: RestRoutes, api: AuthApi, { prisma }: AuthServices): void {
  router.add("PUT", PATH, async (request, response, params) => {
    requireApp(api, request);
    const { userId, clientId } = pathIds(params);
    const input = parseInput(linkRequest, await readBody(request));
    const [person, client] = await Promise.all([
      prisma.user.findUnique({ where: { id: userId }, select: { id: true, country: true } }),
      prisma.partnerClient.findUnique({ where: { id: clientId }, select: { id: true, countries: true } }),
    ]);
    if (!person) throw new RestError("NOT_FOUND", `No person ${userId}`);
    if (!client) throw new RestError("NOT_FOUND", `No partner client ${clientId}`);
    if (!client.countries.includes(person.country)) throw new RestError("FORBIDDEN", `Client ${clientId} does not serve ${person.country}, the person's country`);
    const linked = await api.partnerIds.link({ clientId, userId, country: person.country, customerId: input.customer_id, bureauId: input.bureau_id });
    if ("conflict" in linked) {
      // The ids are not echoed: the message names the field, not its value.
      const field = linked.conflict === "BUREAU" ? "`bureau_id`" : linked.conflict === "CUSTOMER" ? "`customer_id`" : "`customer_id` or `bureau_id`";
      throw new RestError("CONFLICT", `This ${field} already names another person for client ${clientId}`);
    }
    sendJson(response, 200, { user_id: userId, client_id: clientId, customer_id: linked.customerId, bureau_id: linked.bureauId, linked_at: linked.linkedAt.toISOString() });
  }, SPECS.link);

  router.add("DELETE", PATH, async (request, response, params) => {
    requireApp(api, request);
    const { userId, clientId } = pathIds(params);
    const unlinked = await api.partnerIds.unlink(clientId, userId);
    if (unlinked === 0) throw new RestError("NOT_FOUND", `Person ${userId} has no ids of client ${clientId} linked`);
    sendJson(response, 200, { user_id: userId, client_id: clientId, unlinked });
  }, SPECS.unlink);
}
