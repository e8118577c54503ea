import { loadTypeDefs, type SubgraphDefinition } from "../shared/subgraph-server.ts";
import { createLoaders, type WellnessLoaders } from "./loaders.ts";
import { createMutations, type WellnessMutations } from "./mutations.ts";
import { resolvers } from "./resolvers.ts";
import { WellnessService } from "./service.ts";
import { PartnerIds } from "../../platform/partner-ids/partner-ids.ts";

export const wellness: SubgraphDefinition<WellnessService, WellnessLoaders, WellnessMutations> = {
  name: "wellness",
  typeDefs: loadTypeDefs(import.meta.url),
  resolvers,
  createService: (prisma, viewer, _settings, resources) => new WellnessService(prisma, viewer, new PartnerIds(prisma, resources.vault)),
  createLoaders,
  createMutations,
};
