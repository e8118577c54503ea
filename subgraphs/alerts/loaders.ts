import DataLoader from "dataloader";
import { tenantOf } from "../../platform/auth/tenant.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { PerUserLoader } from "../shared/per-user-loader.ts";
import type { PersonAccess } from "../shared/person-access.ts";
import { type AlertTransition, changeAlertStatus } from "./alert-status.ts";
import { raiseSandboxAlert } from "./sandbox-alert.ts";
import { AlertsService, type AlertRow, type AlertWindow } from "./service.ts";

export function createLoaders(prisma: PrismaClient, viewer: Viewer) {
  const service = new AlertsService(prisma, tenantOf(viewer));
  return {
    recentAlerts: new PerUserLoader((ids, window: AlertWindow) => service.recentAlerts(ids, window), (row) => row.userId),
    alert: new DataLoader<string, AlertRow | null>(async (ids) => {
      const rows = new Map((await service.alertsByIds(ids)).map((row) => [row.id, row]));
      return ids.map((id) => rows.get(id) ?? null);
    }),
    /** Mutation.acknowledgeAlert / resolveAlert: see alert-status.ts. */
    changeStatus: (person: PersonAccess, id: string, transition: AlertTransition) => changeAlertStatus(prisma, viewer, person, id, transition),
    /** Mutation.raiseSandboxAlert: see sandbox-alert.ts. */
    raiseSandboxAlert: (person: PersonAccess, type: string, userId: string | undefined) => raiseSandboxAlert(prisma, viewer, person, type, userId),
  };
}

export type AlertsLoaders = ReturnType<typeof createLoaders>;
