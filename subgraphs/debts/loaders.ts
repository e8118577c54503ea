import { PerUserLoader } from "../shared/per-user-loader.ts";
import type { DebtRow, DebtsService } from "./service.ts";

export function createLoaders(service: DebtsService) {
  return {
    debts: new PerUserLoader((ids, columns: readonly (keyof DebtRow)[]) => service.debts(ids, columns), (row) => row.userId),
  };
}

export type DebtsLoaders = ReturnType<typeof createLoaders>;
