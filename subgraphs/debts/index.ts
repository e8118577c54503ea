import { loadTypeDefs, type SubgraphDefinition } from "../shared/subgraph-server.ts";
import { createLoaders, type DebtsLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers.ts";

export const debts: SubgraphDefinition<DebtsLoaders> = {
  name: "debts",
  typeDefs: loadTypeDefs(import.meta.url),
  resolvers,
  createLoaders,
};
