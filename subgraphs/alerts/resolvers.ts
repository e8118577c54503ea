import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/resolverMap.js";
import type { SubgraphContext } from "../shared/context.ts";
import { pageSize } from "../shared/pagination.ts";
import type { AlertsLoaders } from "./loaders.ts";
import { ALERTS_PAGE, type AlertRow } from "./service.ts";

type Context = SubgraphContext<AlertsLoaders>;
type Ref = { id: string };

export const resolvers: GraphQLResolverMap<Context> = {
  User: {
    __resolveReference: (ref: Ref) => ref,
    alerts: (user: Ref, args: { since?: Date | null; first?: number | null }, { loaders }: Context) =>
      loaders.recentAlerts.load(user.id, { limit: pageSize(args.first, ALERTS_PAGE), ...(args.since ? { since: args.since } : {}) }),
  },
  Mutation: {
    acknowledgeAlert: (_root, { id }: Ref, { loaders, access }: Context) => loaders.changeStatus(access, id, "acknowledge"),
    resolveAlert: (_root, { id }: Ref, { loaders, access }: Context) => loaders.changeStatus(access, id, "resolve"),
    raiseSandboxAlert: (_root, { type, userId }: { type: string; userId?: string | null }, { loaders, access }: Context) =>
      loaders.raiseSandboxAlert(access, type, userId ?? undefined),
  },
  Alert: {
    __resolveReference: (ref: Ref, { loaders }: Context) => loaders.alert.load(ref.id),
    user: (alert: AlertRow) => ({ id: alert.userId }),
  },
};
