import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/resolverMap.js";
import type { SubgraphContext } from "../shared/context.ts";
import { personAccess } from "../shared/person-access.ts";
import { pageSize } from "../shared/pagination.ts";
import type { AlertsLoaders } from "./loaders.ts";
import type { AlertsMutations } from "./mutations.ts";
import { ALERTS_PAGE, type AlertRow, type AlertsService } from "./service.ts";

type Context = SubgraphContext<AlertsService, AlertsLoaders, AlertsMutations>;
type Ref = { id: string };

export const resolvers: GraphQLResolverMap<Context> = {
  User: {
    __resolveReference: (ref: Ref) => ref,
    alerts: (user: Ref, args: { since?: Date | null; first?: number | null }, { loaders }: Context) =>
      loaders.recentAlerts.load(user.id, { limit: pageSize(args.first, ALERTS_PAGE), ...(args.since ? { since: args.since } : {}) }),
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
