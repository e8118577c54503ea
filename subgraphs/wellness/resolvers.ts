import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/resolverMap.js";
import type { GraphQLFieldResolver, GraphQLResolveInfo } from "graphql";
import type { Country, WellnessBand } from "../../generated/prisma/enums.ts";
import { badUserInput, graphQLError } from "../../platform/errors.ts";
import type { SubgraphContext } from "../shared/context.ts";
import { connectionFrom, decodeCursor, encodeCursor, pageSize, selectsPath } from "../shared/pagination.ts";
import { argumentRule, personAccess } from "../shared/person-access.ts";
import { historyAt, type HistoryInterval } from "./history-interval.ts";
import type { WellnessLoaders } from "./loaders.ts";
import type { WellnessMutations } from "./mutations.ts";
import { HISTORY_MONTHS, USERS_PAGE, type GoalRow, type SnapshotRow, type SnapshotSummaryRow, type UserRow, type WellnessService } from "./service.ts";

type Context = SubgraphContext<WellnessService, WellnessLoaders, WellnessMutations>;
type UserRef = { id: string };
/** A WellnessIndex as the resolvers above give it: a snapshot row, its summary only, or a fresh diagnosis. */
type WellnessIndexSource = SnapshotSummaryRow & Partial<Pick<SnapshotRow, "factors" | "actionPlan">>;

export const resolvers: GraphQLResolverMap<Context> = {
  Query: {
    // A partner token stands for no person: say so rather than answer a silent null.
    me: (_root, _args, { viewer, loaders }: Context, info) => {
      if (viewer.kind !== "consent") throw graphQLError("FORBIDDEN", "`me` is the person of a consent token; a partner (client-credentials) token has none: read `user(id:)` or `users`");
      return userLoader(loaders, info).load(viewer.userId);
    },
    user: (_root, { id }: { id: string }, { loaders }: Context, info) => userLoader(loaders, info).load(id),
    users: async (_root, args: { first?: number | null; after?: string | null; band?: WellnessBand | null; country?: Country | null }, { service, loaders }: Context, info) => {
      const size = pageSize(args.first, USERS_PAGE);
      const [afterId] = decodeCursor(args.after, ["string"] as const) ?? [];
      // The band is a person's wellness: only people whose consent covers it may match.
      const band = args.band ? { value: args.band, consentFor: argumentRule(info, "band") } : undefined;
      const country = args.country ?? undefined;
      const page = { limit: size + 1, ...(afterId !== undefined ? { afterId } : {}), ...(country ? { country } : {}) };
      let rows: UserRow[];
      if (!band && selectsPath(info, ["edges", "node", "wellness"])) {
        rows = [];
        for (const { latest, ...user } of await service.pageOfUsersWithLatestSnapshot({ ...page, details: asksWellnessDetails(info, ["edges", "node"]) })) {
          rows.push(user);
          loaders.latestSnapshot.prime(user.id, undefined, latest ? [latest] : []);
        }
      } else rows = await service.pageOfUsers({ ...page, ...(band ? { band } : {}) });
      for (const row of rows) loaders.user.prime(row.id, row);
      return {
        ...connectionFrom(rows, size, (row: UserRow) => encodeCursor([row.id]), (row) => row),
        count: () => service.countUsers(band, country),
      };
    },
  },
  // A resolver of its own, not a function-valued property: graphql-jit (lean-queries.ts) reads a field without a resolver as a plain property.
  UserConnection: {
    totalCount: (connection: { count: () => Promise<number> }) => connection.count(),
  },
  Mutation: {
    runDiagnosis: (_root, { userId }: { userId?: string | null }, { mutations, access }: Context, info) =>
      mutations.runDiagnosis(personAccess(info, access), userId ?? undefined),
  },
  User: {
    // @apollo/subgraph calls it (reference, context, info); its resolver map types it as a field resolver.
    __resolveReference: ((ref: UserRef, { loaders }: Context, info: GraphQLResolveInfo) => userLoader(loaders, info).load(ref.id)) as unknown as GraphQLFieldResolver<UserRef, Context>,
    country: async (user: UserRef & { country?: string }, _args, { loaders }: Context) => user.country ?? (await loaders.user.load(user.id))?.country,
    partnerRef: (user: UserRef, _args, { loaders }: Context) => loaders.partnerRef.load(user.id),
    wellness: (user: UserRef, _args, { loaders }: Context) => loaders.latestSnapshot.loadOne(user.id, undefined),
    wellnessHistory: async (user: UserRef, { months, interval }: { months: number; interval: HistoryInterval }, { loaders }: Context) => {
      if (!Number.isInteger(months) || months < HISTORY_MONTHS.min || months > HISTORY_MONTHS.max) {
        throw badUserInput(`\`months\` must be between ${HISTORY_MONTHS.min} and ${HISTORY_MONTHS.max}`, "months");
      }
      return historyAt(await loaders.history.load(user.id, months), interval);
    },
    savingsGoals: (user: UserRef, _args, { loaders }: Context) => loaders.goals.load(user.id, undefined),
  },
  // A snapshot read as a summary (a page of scores, a person's entity) has neither: they are read when asked.
  WellnessIndex: {
    factors: snapshotDetail("factors"),
    actionPlan: snapshotDetail("actionPlan"),
  },
  SavingsGoal: {
    progress: (goal: GoalRow) => (goal.targetAmount.isZero() ? 1 : Math.min(1, goal.currentAmount.div(goal.targetAmount).toNumber())),
  },
};

/** The operation asks, under `path`, for the factors or the action plan of a person's `wellness`. */
function asksWellnessDetails(info: GraphQLResolveInfo, path: readonly string[]): boolean {
  return selectsPath(info, [...path, "wellness", "factors"]) || selectsPath(info, [...path, "wellness", "actionPlan"]);
}

/** The person loader that reads what this operation will ask of their latest snapshot. */
function userLoader(loaders: WellnessLoaders, info: GraphQLResolveInfo) {
  return asksWellnessDetails(info, []) ? loaders.userWithWellnessDetails : loaders.user;
}

/** WellnessIndex's `field` ([] when the snapshot has none): from the row, or for a summary from snapshotDetails. */
function snapshotDetail(field: "factors" | "actionPlan") {
  return async (index: WellnessIndexSource, _args: unknown, { loaders }: Context) => (field in index ? index[field] : (await loaders.snapshotDetails.load(index))?.[field]) ?? [];
}
