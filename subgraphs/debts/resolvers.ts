import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/resolverMap.js";
import type { FieldNode, GraphQLResolveInfo } from "graphql";
import { columnsBeside } from "../shared/column-choice.ts";
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
const CHOICES: Readonly<Record<string, typeof DEBT_COLUMNS>> = { debts: DEBT_COLUMNS, debtSummary: SUMMARY_COLUMNS };

/** The columns of the one statement that answers every `debts` and `debtSummary` asked beside the field being resolved. */
function debtColumns(info: GraphQLResolveInfo): readonly (keyof DebtRow)[] {
  return columnsBeside(info, chosen, DEBT_COLUMNS.all, (field) => (Object.hasOwn(CHOICES, field.name.value) ? CHOICES[field.name.value]!.keysOf(field.selectionSet, info.fragments) : undefined));
}
