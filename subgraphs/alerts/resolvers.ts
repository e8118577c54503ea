import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/resolverMap.js";
import type { SubgraphContext } from "../shared/context.ts";
import { personAccess } from "../shared/person-access.ts";
import { pageSize } from "../shared/pagination.ts";
import { ALERT_FEED_PAGE, alertFeedOf, checkFeedCursor } from "./alert-feed.ts";
import type { AlertsLoaders } from "./loaders.ts";
import type { AlertsMutations } from "./mutations.ts";
import { ALERTS_PAGE, type AlertRow, type AlertsService } from "./service.ts";
import { ALERT_COLUMN_CHOICE } from "./alert-row.ts";
import { inCohortOrder } from "./cohort-tags.ts";

type Context = SubgraphContext<AlertsService, AlertsLoaders, AlertsMutations>;
type Ref = { id: string };

export const resolvers: GraphQLResolverMap<Context> = {
  User: {
    __resolveReference: (ref: Ref) => ref,
    alerts: (user: Ref, args: { since?: Date | null; first?: number | null }, { loaders }: Context, info) =>
      loaders.recentAlerts.load(user.id, { limit: pageSize(args.first, ALERTS_PAGE), ...(args.since ? { since: args.since } : {}), columns: ALERT_COLUMN_CHOICE.keysFor(info) }),
    cohorts: async (user: Ref, _args: unknown, { loaders }: Context) => inCohortOrder(await loaders.cohortTags.load(user.id, undefined)),
    alertFeed: async (user: Ref, args: { since?: Date | null; after?: string | null; first?: number | null }, { loaders }: Context) => {
      checkFeedCursor(args.after);
      const window = { limit: pageSize(args.first, ALERT_FEED_PAGE), ...(args.since ? { since: args.since } : {}), ...(args.after ? { after: args.after } : {}) };
      return alertFeedOf(await loaders.alertFeed.load(user.id, window), window);
    },
  },
  Query: {
    preventionReport: (_root, { period }: { period: string }, { service }: Context) => service.reports.report(period),
  },
  Mutation: {
    acknowledgeAlert: (_root, { id }: Ref, { mutations, access }: Context, info) => mutations.changeStatus(personAccess(info, access), id, "acknowledge"),
    resolveAlert: (_root, { id }: Ref, { mutations, access }: Context, info) => mutations.changeStatus(personAccess(info, access), id, "resolve"),
    raiseSandboxAlert: (_root, { type, userId }: { type: string; userId?: string | null }, { mutations, access }: Context, info) =>
      mutations.raiseSandboxAlert(personAccess(info, access), type, userId ?? undefined),
  },
  Alert: {
    __resolveReference: (ref: Ref, { loaders }: Context) => loaders.alert.load(ref.id),
    user: (alert: AlertRow) => ({ id: alert.userId }),
  },
};
