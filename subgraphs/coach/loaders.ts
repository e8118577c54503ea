import type { PrismaClient } from "../shared/database.ts";
import { PerUserLoader } from "../shared/per-user-loader.ts";
import { CoachService, type SessionWindow } from "./service.ts";

export function createLoaders(prisma: PrismaClient) {
  const service = new CoachService(prisma);
  return {
    sessions: new PerUserLoader((ids, window: SessionWindow) => service.sessions(ids, window), (row) => row.userId),
  };
}

export type CoachLoaders = ReturnType<typeof createLoaders>;
