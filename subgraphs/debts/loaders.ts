import { tenantOf } from "../../platform/auth/tenant.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { PerUserLoader } from "../shared/per-user-loader.ts";
import { DebtsService } from "./service.ts";

export function createLoaders(prisma: PrismaClient, viewer: Viewer) {
  const service = new DebtsService(prisma, tenantOf(viewer));
  return {
    debts: new PerUserLoader((ids) => service.debts(ids), (row) => row.userId),
  };
}

export type DebtsLoaders = ReturnType<typeof createLoaders>;
