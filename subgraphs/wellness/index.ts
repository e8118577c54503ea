import { loadTypeDefs, type SubgraphDefinition } from "../shared/subgraph-server.ts";
import { createLoaders, type WellnessLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers.ts";

export const wellness: SubgraphDefinition<WellnessLoaders> = {
  name: "wellness",
  typeDefs: loadTypeDefs(import.meta.url),
  resolvers,
  createLoaders,
};
