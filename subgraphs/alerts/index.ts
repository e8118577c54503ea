import { tenantOf } from "../../platform/auth/tenant.ts";
import { loadTypeDefs, type SubgraphDefinition } from "../shared/subgraph-server.ts";
import { createLoaders, type AlertsLoaders } from "./loaders.ts";
import { createMutations, type AlertsMutations } from "./mutations.ts";
import { PreventionReports } from "./report-service.ts";
import { resolvers } from "./resolvers.ts";
import { AlertsService } from "./service.ts";

export const alerts: SubgraphDefinition<AlertsService, AlertsLoaders, AlertsMutations> = {
  name: "alerts",
  typeDefs: loadTypeDefs(import.meta.url),
  resolvers,
  createService: (prisma, viewer, settings) => new AlertsService(prisma, tenantOf(viewer), new PreventionReports(prisma, viewer, settings.reports.minCell)),
  createLoaders,
  createMutations,
};
