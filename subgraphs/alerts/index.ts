import { loadTypeDefs, type SubgraphDefinition } from "../shared/subgraph-server.ts";
import { createLoaders, type AlertsLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers.ts";

export const alerts: SubgraphDefinition<AlertsLoaders> = {
  name: "alerts",
  typeDefs: loadTypeDefs(import.meta.url),
  resolvers,
  createLoaders,
};
