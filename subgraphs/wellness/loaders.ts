import DataLoader from "dataloader";
import { PerUserLoader } from "../shared/per-user-loader.ts";
import type { PartnerRef } from "../../platform/partner-ids/partner-ids.ts";
import type { SnapshotDetailsRow, SnapshotSummaryRow, UserRow, WellnessService } from "./service.ts";

export function createLoaders(service: WellnessService) {
  // Full rows when it reads them itself; a page or a person's entity primes it with summaries (see snapshotDetails).
  const latestSnapshot = new PerUserLoader<SnapshotSummaryRow | (SnapshotSummaryRow & SnapshotDetailsRow)>((ids) => service.latestSnapshots(ids), (row) => row.userId);
  const userLoader = (details: boolean) =>
    new DataLoader<string, UserRow | null>(async (ids) => {
      const users = new Map<string, UserRow>();
      for (const { latest, ...user } of await service.usersWithLatestSnapshot(ids, details)) {
        users.set(user.id, user);
        latestSnapshot.prime(user.id, undefined, latest ? [latest] : []);
      }
      return ids.map((id) => users.get(id) ?? null);
    });
  return {
    /** A visible person, or null; the summary of their latest snapshot comes with them (see usersWithLatestSnapshot). */
    user: userLoader(false),
    /** The same, for an operation that asks for the snapshot's factors or action plan: they come in the same statement. */
    userWithWellnessDetails: userLoader(true),
    latestSnapshot,
    /** The calling client's own ids for a person, or null. */
    partnerRef: new DataLoader<string, PartnerRef | null>(async (ids) => {
      const refs = await service.partnerRefs(ids);
      return ids.map((id) => refs.get(id) ?? null);
    }),
    /** The factors and action plan of a snapshot read as a summary, for every snapshot of the request that asks in one statement. */
    snapshotDetails: new DataLoader<SnapshotSummaryRow, SnapshotDetailsRow | null, string>(
      async (snapshots) => {
        const rows = new Map((await service.snapshotDetails(snapshots)).map((row) => [snapshotKey(row), row]));
        return snapshots.map((snapshot) => rows.get(snapshotKey(snapshot)) ?? null);
      },
      { cacheKeyFn: snapshotKey },
    ),
    history: new PerUserLoader((ids, months: number) => service.dailyScoresSince(ids, months), (row) => row.userId),
    goals: new PerUserLoader((ids) => service.goals(ids), (row) => row.userId),
  };
}

export type WellnessLoaders = ReturnType<typeof createLoaders>;

function snapshotKey(snapshot: { userId: string; snapshotDate: Date }): string {
  return `${snapshot.userId}\u0000${snapshot.snapshotDate.toISOString()}`;
}
