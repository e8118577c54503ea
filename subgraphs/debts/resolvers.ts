import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/resolverMap.js";
import type { FieldNode, GraphQLResolveInfo } from "graphql";
import { siblingFields } from "../shared/column-choice.ts";
import type { DebtStatus } from "../../generated/prisma/enums.ts";
import type { SubgraphContext } from "../shared/context.ts";
import type { DebtsLoaders } from "./loaders.ts";
import { DEBT_COLUMNS, summarise, SUMMARY_COLUMNS, type DebtRow, type DebtsService } from "./service.ts";

type Context = SubgraphContext<DebtsService, DebtsLoaders>;
type UserRef = { id: string };

export const resolvers: GraphQLResolverMap<Context> = {
  User: {
    __resolveReference: (ref: UserRef) => ref,
    debts: async (user: UserRef, { status }: { status?: DebtStatus | null }, { loaders }: Context, info) => {
      const debts = await loaders.debts.load(user.id, debtColumns(info));
      return status ? debts.filter((debt) => debt.status === status) : debts;
    },
    debtSummary: async (user: UserRef, _args, { loaders }: Context, info) => summarise(await loaders.debts.load(user.id, debtColumns(info))),
  },
  Debt: {
    apr: (debt: DebtRow) => Number(debt.apr),
  },
};

const chosen = new WeakMap<FieldNode, readonly (keyof DebtRow)[]>();

/** The columns of the one statement that answers every `debts` and `debtSummary` asked beside the field being resolved. */
function debtColumns(info: GraphQLResolveInfo): readonly (keyof DebtRow)[] {
  let columns = chosen.get(info.fieldNodes[0]!);
  if (!columns) {
    const siblings = siblingFields(info);
    const keys = new Set<keyof DebtRow>();
    for (const field of siblings) {
      const choice = field.name.value === "debts" ? DEBT_COLUMNS : field.name.value === "debtSummary" ? SUMMARY_COLUMNS : undefined;
      for (const key of choice?.keysOf(field.selectionSet, info.fragments) ?? []) keys.add(key);
    }
    // Its own field not found beside it (a path this walk does not follow): every column, never too few.
    columns = siblings.includes(info.fieldNodes[0]!) ? [...keys].sort() : DEBT_COLUMNS.all;
    chosen.set(info.fieldNodes[0]!, columns);
  }
  return columns;
}
