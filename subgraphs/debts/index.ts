import { tenantOf } from "../../platform/auth/tenant.ts";
import { loadTypeDefs, type SubgraphDefinition } from "../shared/subgraph-server.ts";
import { createLoaders, type DebtsLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers.ts";
import { DebtsService } from "./service.ts";

export const debts: SubgraphDefinition<DebtsService, DebtsLoaders> = {
  name: "debts",
  typeDefs: loadTypeDefs(import.meta.url),
  resolvers,
  createService: (prisma, viewer) => new DebtsService(prisma, tenantOf(viewer)),
  createLoaders,
  createMutations: () => undefined,
};
