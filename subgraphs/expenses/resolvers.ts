import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/resolverMap.js";
import { badUserInput } from "../../platform/errors.ts";
import type { FieldNode, GraphQLResolveInfo } from "graphql";
import { fieldsAt } from "../shared/column-choice.ts";
import type { SubgraphContext } from "../shared/context.ts";
import { connectionFrom, decodeCursor, encodeCursor, pageSize, selectsPath } from "../shared/pagination.ts";
import type { ExpensesLoaders } from "./loaders.ts";
import { EXPENSE_COLUMNS, EXPENSE_CURSOR_COLUMNS, EXPENSES_PAGE, INCOME_COLUMNS, type ExpenseFilter, type ExpenseRow, type ExpensesService } from "./service.ts";

type Context = SubgraphContext<ExpensesService, ExpensesLoaders>;
type UserRef = { id: string };

interface ExpensesArgs {
  from?: Date | null;
  to?: Date | null;
  category?: string | null;
  first?: number | null;
  after?: string | null;
}

export const resolvers: GraphQLResolverMap<Context> = {
  User: {
    __resolveReference: (ref: UserRef) => ref,
    expenses: async (user: UserRef, args: ExpensesArgs, { loaders }: Context, info) => {
      const size = pageSize(args.first, EXPENSES_PAGE);
      const filter = expenseFilter(args);
      const cursor = decodeCursor(args.after, ["timestamp", "int8"] as const);
      const after = cursor && { occurredAt: cursor[0], id: cursor[1] };
      const columns = EXPENSE_COLUMNS.keysFor(info, cursorColumns);
      const pageArgs = { ...filter, limit: size + 1, ...(after ? { after } : {}), columns };
      const cursorOf = (row: ExpenseRow) => encodeCursor([row.occurredAt.toISOString(), row.id.toString()]);
      // The count comes in the page's own statement whenever it is asked for.
      if (!selectsPath(info, ["totalCount"])) return connectionFrom(await loaders.expensePage.load(user.id, pageArgs), size, cursorOf, (row) => row);
      const counted = await loaders.countedExpensePage.load(user.id, pageArgs);
      const rows: ExpenseRow[] = [];
      for (const row of counted) if (row.expense) rows.push(row.expense);
      return { ...connectionFrom(rows, size, cursorOf, (row) => row), totalCount: counted[0]?.total ?? 0 };
    },
    incomeStreams: (user: UserRef, _args, { loaders }: Context, info) => loaders.incomeStreams.load(user.id, INCOME_COLUMNS.keysFor(info)),
  },
  Expense: {
    id: (expense: ExpenseRow) => expense.id.toString(),
  },
};

/** A connection's cursors (`edges { cursor }`, `pageInfo { endCursor }`) are its rows' sort key. */
function cursorColumns(field: FieldNode, fragments: GraphQLResolveInfo["fragments"]): readonly (keyof ExpenseRow)[] {
  return fieldsAt(field.selectionSet, fragments, ["edges"]).has("cursor") || fieldsAt(field.selectionSet, fragments, ["pageInfo"]).has("endCursor") ? EXPENSE_CURSOR_COLUMNS : [];
}

function expenseFilter(args: ExpensesArgs): ExpenseFilter {
  if (args.from && args.to && args.from > args.to) throw badUserInput("`from` must not be after `to`", "from");
  const category = args.category?.trim();
  if (category !== undefined && (category.length === 0 || category.length > 64)) {
    throw badUserInput("`category` must be 1 to 64 characters", "category");
  }
  return {
    ...(args.from ? { from: args.from } : {}),
    ...(args.to ? { to: args.to } : {}),
    ...(category ? { category } : {}),
  };
}

