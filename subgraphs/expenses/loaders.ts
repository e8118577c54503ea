import { tenantOf } from "../../platform/auth/tenant.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { PerUserLoader } from "../shared/per-user-loader.ts";
import { ExpensesService, type ExpenseFilter, type ExpensePageArgs } from "./service.ts";

export function createLoaders(prisma: PrismaClient, viewer: Viewer) {
  const service = new ExpensesService(prisma, tenantOf(viewer));
  return {
    expensePage: new PerUserLoader((ids, args: ExpensePageArgs) => service.pageOfExpenses(ids, args), (row) => row.userId),
    expenseCount: new PerUserLoader((ids, filter: ExpenseFilter) => service.countExpenses(ids, filter), (row) => row.userId),
    incomeStreams: new PerUserLoader((ids) => service.incomeStreams(ids), (row) => row.userId),
  };
}

export type ExpensesLoaders = ReturnType<typeof createLoaders>;
