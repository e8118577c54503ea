import { PerUserLoader } from "../shared/per-user-loader.ts";
import type { ExpensePageArgs, ExpensesService } from "./service.ts";

export function createLoaders(service: ExpensesService) {
  return {
    expensePage: new PerUserLoader((ids, args: ExpensePageArgs) => service.pageOfExpenses(ids, args), (row) => row.userId),
    countedExpensePage: new PerUserLoader((ids, args: ExpensePageArgs) => service.countedPageOfExpenses(ids, args), (row) => row.userId),
    incomeStreams: new PerUserLoader((ids) => service.incomeStreams(ids), (row) => row.userId),
  };
}

export type ExpensesLoaders = ReturnType<typeof createLoaders>;
