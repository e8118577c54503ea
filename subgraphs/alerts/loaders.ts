import DataLoader from "dataloader";
import { PerUserLoader } from "../shared/per-user-loader.ts";
import type { AlertFeedWindow } from "./alert-feed.ts";
import type { AlertRow, AlertWindow, AlertsService } from "./service.ts";

export function createLoaders(service: AlertsService) {
  return {
    recentAlerts: new PerUserLoader((ids, window: AlertWindow) => service.recentAlerts(ids, window), (row) => row.userId),
    cohortTags: new PerUserLoader((ids) => service.cohortTags(ids), (row) => row.userId),
    alertFeed: new PerUserLoader((ids, window: AlertFeedWindow) => service.alertFeed(ids, window), (row) => row.userId),
    alert: new DataLoader<string, AlertRow | null>(async (ids) => {
      const rows = new Map((await service.alertsByIds(ids)).map((row) => [row.id, row]));
      return ids.map((id) => rows.get(id) ?? null);
    }),
  };
}

export type AlertsLoaders = ReturnType<typeof createLoaders>;
