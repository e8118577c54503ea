import DataLoader from "dataloader";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { PerUserLoader } from "../shared/per-user-loader.ts";
import { runDiagnosis, type RunDiagnosisContext } from "./diagnosis/run-diagnosis.ts";
import { WellnessService, type UserRow } from "./service.ts";

export function createLoaders(prisma: PrismaClient, viewer: Viewer) {
  const service = new WellnessService(prisma, viewer);
  const latestSnapshot = new PerUserLoader((ids) => service.latestSnapshots(ids), (row) => row.userId);
  return {
    service,
    /** A visible person, or null; their latest snapshot comes with them (see usersWithLatestSnapshot). */
    user: new DataLoader<string, UserRow | null>(async (ids) => {
      const users = new Map<string, UserRow>();
      for (const { latest, ...user } of await service.usersWithLatestSnapshot(ids)) {
        users.set(user.id, user);
        latestSnapshot.prime(user.id, undefined, latest ? [latest] : []);
      }
      return ids.map((id) => users.get(id) ?? null);
    }),
    latestSnapshot,
    history: new PerUserLoader((ids, months: number) => service.snapshotsSince(ids, months), (row) => row.userId),
    goals: new PerUserLoader((ids) => service.goals(ids), (row) => row.userId),
    /** Mutation.runDiagnosis: see diagnosis/run-diagnosis.ts. */
    runDiagnosis: (context: Omit<RunDiagnosisContext, "viewer">, userId: string | undefined) => runDiagnosis(prisma, { ...context, viewer }, userId),
  };
}

export type WellnessLoaders = ReturnType<typeof createLoaders>;
