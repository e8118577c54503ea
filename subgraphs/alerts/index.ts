import { tenantOf } from "../../platform/auth/tenant.ts";
import { loadTypeDefs, type SubgraphDefinition } from "../shared/subgraph-server.ts";
import { createLoaders, type AlertsLoaders } from "./loaders.ts";
import { createMutations, type AlertsMutations } from "./mutations.ts";
import { resolvers } from "./resolvers.ts";
import { AlertsService } from "./service.ts";

export const alerts: SubgraphDefinition<AlertsService, AlertsLoaders, AlertsMutations> = {
  name: "alerts",
  typeDefs: loadTypeDefs(import.meta.url),
  resolvers,
  createService: (prisma, viewer) => new AlertsService(prisma, tenantOf(viewer)),
  createLoaders,
  createMutations,
};
