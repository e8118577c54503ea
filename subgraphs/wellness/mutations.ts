import type { PersonAccess } from "../shared/person-access.ts";
import type { MutationDependencies } from "../shared/subgraph-server.ts";
import { runDiagnosis } from "./diagnosis/run-diagnosis.ts";
import type { WellnessLoaders } from "./loaders.ts";
import type { WellnessService } from "./service.ts";

/** The wellness subgraph's mutations for one request's viewer. */
export function createMutations({ prisma, viewer, loaders }: MutationDependencies<WellnessService, WellnessLoaders>) {
  return {
    /** Mutation.runDiagnosis: see diagnosis/run-diagnosis.ts. A person is visible when the user loader finds them (consent, tenant). */
    runDiagnosis: (person: PersonAccess, userId: string | undefined) =>
      runDiagnosis(prisma, { viewer, person, isVisible: async (id) => (await loaders.user.load(id)) !== null }, userId),
  };
}

export type WellnessMutations = ReturnType<typeof createMutations>;
