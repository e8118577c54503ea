import { PerUserLoader } from "../shared/per-user-loader.ts";
import type { DebtsService } from "./service.ts";

export function createLoaders(service: DebtsService) {
  return {
    debts: new PerUserLoader((ids) => service.debts(ids), (row) => row.userId),
  };
}

export type DebtsLoaders = ReturnType<typeof createLoaders>;
