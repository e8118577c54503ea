import DataLoader from "dataloader";
import { PerUserLoader } from "../shared/per-user-loader.ts";
import type { PartnerRef } from "../../platform/partner-ids/partner-ids.ts";
import type { UserRow, WellnessService } from "./service.ts";

export function createLoaders(service: WellnessService) {
  const latestSnapshot = new PerUserLoader((ids) => service.latestSnapshots(ids), (row) => row.userId);
  return {
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
    /** The calling client's own ids for a person, or null. */
    partnerRef: new DataLoader<string, PartnerRef | null>(async (ids) => {
      const refs = await service.partnerRefs(ids);
      return ids.map((id) => refs.get(id) ?? null);
    }),
    history: new PerUserLoader((ids, months: number) => service.dailyScoresSince(ids, months), (row) => row.userId),
    goals: new PerUserLoader((ids) => service.goals(ids), (row) => row.userId),
  };
}

export type WellnessLoaders = ReturnType<typeof createLoaders>;
