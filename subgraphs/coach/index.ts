import { loadTypeDefs, type SubgraphDefinition } from "../shared/subgraph-server.ts";
import { createLoaders, type CoachLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers.ts";

export const coach: SubgraphDefinition<CoachLoaders> = {
  name: "coach",
  typeDefs: loadTypeDefs(import.meta.url),
  resolvers,
  createLoaders,
};
