import { loadTypeDefs, type SubgraphDefinition } from "../shared/subgraph-server.ts";
import { createLoaders, type ExpensesLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers.ts";

export const expenses: SubgraphDefinition<ExpensesLoaders> = {
  name: "expenses",
  typeDefs: loadTypeDefs(import.meta.url),
  resolvers,
  createLoaders,
};
