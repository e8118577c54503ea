import type { PersonAccess } from "../shared/person-access.ts";
import type { MutationDependencies } from "../shared/subgraph-server.ts";
import { type AlertTransition, changeAlertStatus } from "./alert-status.ts";
import type { AlertsLoaders } from "./loaders.ts";
import { raiseSandboxAlert } from "./sandbox-alert.ts";
import type { AlertsService } from "./service.ts";

/** The alerts subgraph's mutations for one request's viewer. */
export function createMutations({ prisma, viewer }: MutationDependencies<AlertsService, AlertsLoaders>) {
  return {
    /** Mutation.acknowledgeAlert / resolveAlert: see alert-status.ts. */
    changeStatus: (person: PersonAccess, id: string, transition: AlertTransition) => changeAlertStatus(prisma, viewer, person, id, transition),
    /** Mutation.raiseSandboxAlert: see sandbox-alert.ts. */
    raiseSandboxAlert: (person: PersonAccess, type: string, userId: string | undefined) => raiseSandboxAlert(prisma, viewer, person, type, userId),
  };
}

export type AlertsMutations = ReturnType<typeof createMutations>;
