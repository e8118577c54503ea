import type { PrismaClient } from "../shared/database.ts";
import { PerUserLoader } from "../shared/per-user-loader.ts";
import { DebtsService } from "./service.ts";

export function createLoaders(prisma: PrismaClient) {
  const service = new DebtsService(prisma);
  return {
    debts: new PerUserLoader((ids) => service.debts(ids), (row) => row.userId),
  };
}

export type DebtsLoaders = ReturnType<typeof createLoaders>;
