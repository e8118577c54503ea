import { tenantOf } from "../../platform/auth/tenant.ts";
import { loadTypeDefs, type SubgraphDefinition } from "../shared/subgraph-server.ts";
import { createLoaders, type CoachLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers.ts";
import { CoachService } from "./service.ts";

export const coach: SubgraphDefinition<CoachService, CoachLoaders> = {
  name: "coach",
  typeDefs: loadTypeDefs(import.meta.url),
  resolvers,
  createService: (prisma, viewer, _settings, resources) => new CoachService(prisma, tenantOf(viewer), resources.vault),
  createLoaders,
  createMutations: () => undefined,
};
