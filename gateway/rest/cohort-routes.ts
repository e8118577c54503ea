import type { ApolloServer } from "@apollo/server";
import { z } from "zod";
import { sendJson } from "../../platform/http/graphql-http-server.ts";
import type { AuthServices } from "../auth/services.ts";
import type { GatewayContext } from "../context.ts";
import { GRAPH_ERRORS, userIdParam } from "./graph-routes.ts";
import type { RestRoutes } from "./rest-routes.ts";
import { person, StoredOperations, subject, type Data } from "./stored-operations.ts";

// The person's behavioural cohort tags (issue 21, item 2), a stored GraphQL operation run as the
// request's token (stored-operations.ts), like the other person routes.

const COHORTS = `query Cohorts($userId: ID!, $self: Boolean!) {
  me @include(if: $self) { id cohorts { tag title since } }
  user(id: $userId) @skip(if: $self) { id cohorts { tag title since } }
}`;

const cohortItem = z.object({
  tag: z.string().describe("The tag's code, e.g. informal_earner (docs/cohorts.md defines each)"),
  title: z.string().describe("The tag's name for people, e.g. Informal earner"),
  since: z.iso.datetime({ offset: true }).describe("When an evaluation first found it (ISO 8601); it has held at every evaluation since"),
});

export function addCohortRoutes(router: RestRoutes, apollo: ApolloServer<GatewayContext>, auth: AuthServices): void {
  const operations = new StoredOperations(apollo, auth);

  router.add(
    "GET",
    "/v1/cohorts",
    async (request, response, _params, info) => {
      await operations.context(request, info);
      const found = person(await operations.run(request, info, COHORTS, subject(request)));
      const items = ((found.cohorts ?? []) as Data[]).map((row) => ({ tag: row.tag as string, title: row.title as string, since: row.since as string }));
      sendJson(response, 200, { user_id: found.id as string, items });
    },
    {
      summary: "The person's behavioural cohort tags",
      description:
        "The tags the person carries now (informal_earner, over_indebted, ...), in the order docs/cohorts.md lists them, each with when it was first found. Recomputed with every diagnosis and prevention run; empty before the first. Needs cohorts.read.",
      tag: "cohorts",
      caller: "token",
      query: z.object({ user_id: userIdParam }),
      responses: { 200: { description: "The person's current tags", schema: z.object({ user_id: z.string().describe("The person"), items: z.array(cohortItem) }) } },
      errors: GRAPH_ERRORS,
    },
  );
}
