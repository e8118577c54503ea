import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/resolverMap.js";
import type { DebtStatus } from "../../generated/prisma/enums.ts";
import type { SubgraphContext } from "../shared/context.ts";
import type { DebtsLoaders } from "./loaders.ts";
import { summarise, type DebtRow, type DebtsService } from "./service.ts";

type Context = SubgraphContext<DebtsService, DebtsLoaders>;
type UserRef = { id: string };

export const resolvers: GraphQLResolverMap<Context> = {
  User: {
    __resolveReference: (ref: UserRef) => ref,
    debts: async (user: UserRef, { status }: { status?: DebtStatus | null }, { loaders }: Context) => {
      const debts = await loaders.debts.load(user.id, undefined);
      return status ? debts.filter((debt) => debt.status === status) : debts;
    },
    debtSummary: async (user: UserRef, _args, { loaders }: Context) => summarise(await loaders.debts.load(user.id, undefined)),
  },
  Debt: {
    apr: (debt: DebtRow) => Number(debt.apr),
  },
};
