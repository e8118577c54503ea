import DataLoader from "dataloader";
import { tenantOf } from "../../platform/auth/tenant.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { PerUserLoader } from "../shared/per-user-loader.ts";
import { CoachService, type SessionWindow } from "./service.ts";

export function createLoaders(prisma: PrismaClient, viewer: Viewer) {
  const service = new CoachService(prisma, tenantOf(viewer));
  return {
    sessions: new PerUserLoader((ids, window: SessionWindow) => service.sessions(ids, window), (row) => row.userId),
    transcript: new DataLoader<string, string | null>(async (sessionIds) => {
      const texts = new Map((await service.transcripts(sessionIds)).map((row) => [row.sessionId, row.text]));
      return sessionIds.map((id) => texts.get(id) ?? null);
    }),
  };
}

export type CoachLoaders = ReturnType<typeof createLoaders>;
