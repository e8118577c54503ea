import { tenantOf } from "../../platform/auth/tenant.ts";
import { loadTypeDefs, type SubgraphDefinition } from "../shared/subgraph-server.ts";
import { createLoaders, type ExpensesLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers.ts";
import { ExpensesService } from "./service.ts";

export const expenses: SubgraphDefinition<ExpensesService, ExpensesLoaders> = {
  name: "expenses",
  typeDefs: loadTypeDefs(import.meta.url),
  resolvers,
  createService: (prisma, viewer) => new ExpensesService(prisma, tenantOf(viewer)),
  createLoaders,
  createMutations: () => undefined,
};
