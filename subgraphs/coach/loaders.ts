import DataLoader from "dataloader";
import { PerUserLoader } from "../shared/per-user-loader.ts";
import type { CoachService, SessionWindow } from "./service.ts";

export function createLoaders(service: CoachService) {
  return {
    sessions: new PerUserLoader((ids, window: SessionWindow) => service.sessions(ids, window), (row) => row.userId),
    transcript: new DataLoader<string, string | null>(async (sessionIds) => {
      const texts = new Map((await service.transcripts(sessionIds)).map((row) => [row.sessionId, row.text]));
      return sessionIds.map((id) => texts.get(id) ?? null);
    }),
  };
}

export type CoachLoaders = ReturnType<typeof createLoaders>;
