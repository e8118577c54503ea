import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/resolverMap.js";
import { badUserInput } from "../../platform/errors.ts";
import type { SubgraphContext } from "../shared/context.ts";
import type { CoachLoaders } from "./loaders.ts";
import { SESSION_COLUMNS, sentimentLabel, type CoachService, type CoachSessionRow } from "./service.ts";

type Context = SubgraphContext<CoachService, CoachLoaders>;
type UserRef = { id: string };

export const resolvers: GraphQLResolverMap<Context> = {
  User: {
    __resolveReference: (ref: UserRef) => ref,
    coachSessions: (user: UserRef, args: { from?: Date | null; to?: Date | null }, { loaders }: Context, info) => {
      if (args.from && args.to && args.from >= args.to) throw badUserInput("`from` must be before `to`", "from");
      return loaders.sessions.load(user.id, { ...(args.from ? { from: args.from } : {}), ...(args.to ? { to: args.to } : {}), columns: SESSION_COLUMNS.keysFor(info) });
    },
  },
  CoachSession: {
    sentimentLabel: (session: CoachSessionRow) => sentimentLabel(session.sentiment),
    transcript: (session: CoachSessionRow, _args, { loaders }: Context) => loaders.transcript.load(session.id),
  },
};
