import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/resolverMap.js";
import { badUserInput } from "../../platform/errors.ts";
import type { SubgraphContext } from "../shared/context.ts";
import { connectionFrom, decodeCursor, encodeCursor, pageSize } from "../shared/pagination.ts";
import type { ExpensesLoaders } from "./loaders.ts";
import { EXPENSES_PAGE, type ExpenseFilter, type ExpenseRow, type ExpensesService } from "./service.ts";

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
    expenses: async (user: UserRef, args: ExpensesArgs, { loaders }: Context) => {
      const size = pageSize(args.first, EXPENSES_PAGE);
      const filter = expenseFilter(args);
      const cursor = decodeCursor(args.after, ["timestamp", "int8"] as const);
      const after = cursor && { occurredAt: cursor[0], id: cursor[1] };
      const rows = await loaders.expensePage.load(user.id, { ...filter, limit: size + 1, ...(after ? { after } : {}) });
      return {
        ...connectionFrom(rows, size, (row: ExpenseRow) => encodeCursor([row.occurredAt.toISOString(), row.id.toString()]), (row) => row),
        count: async () => (await loaders.expenseCount.loadOne(user.id, filter))?.count ?? 0,
      };
    },
    incomeStreams: (user: UserRef, _args, { loaders }: Context) => loaders.incomeStreams.load(user.id, undefined),
  },
  // A resolver of its own, not a function-valued property: graphql-jit (lean-queries.ts) reads a field without a resolver as a plain property.
  ExpenseConnection: {
    totalCount: (connection: { count: () => Promise<number> }) => connection.count(),
  },
  Expense: {
    id: (expense: ExpenseRow) => expense.id.toString(),
  },
};

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

