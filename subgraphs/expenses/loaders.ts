import { PerUserLoader } from "../shared/per-user-loader.ts";
import type { ExpensePageArgs, ExpensesService, IncomeRow } from "./service.ts";

export function createLoaders(service: ExpensesService) {
  return {
    expensePage: new PerUserLoader((ids, args: ExpensePageArgs) => service.pageOfExpenses(ids, args), (row) => row.userId),
    countedExpensePage: new PerUserLoader((ids, args: ExpensePageArgs) => service.countedPageOfExpenses(ids, args), (row) => row.userId),
    incomeStreams: new PerUserLoader((ids, columns: readonly (keyof IncomeRow)[]) => service.incomeStreams(ids, columns), (row) => row.userId),
  };
}

export type ExpensesLoaders = ReturnType<typeof createLoaders>;
