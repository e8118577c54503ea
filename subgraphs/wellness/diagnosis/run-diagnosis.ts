// `Mutation.runDiagnosis`: whose diagnosis a caller may run, then the run itself (store today's
// snapshot with its `wellness.diagnosed` event, from which prevention evaluates the person).
import { badUserInput, graphQLError } from "../../../platform/errors.ts";
import type { Viewer } from "../../../platform/auth/viewer.ts";
import type { PrismaClient } from "../../../platform/database/database.ts";
import type { PersonAccess } from "../../shared/person-access.ts";
import { diagnoseUser, type DiagnosisSnapshot } from "./service.ts";

export interface RunDiagnosisContext {
  viewer: Viewer;
  /** The field's own rule from the SDL (wellness.read: the person's consent must cover reading the result). */
  person: PersonAccess;
  /** Whether the viewer can see this person at all (consent, tenant). */
  isVisible(userId: string): Promise<boolean>;
}

/** The `WellnessIndex` GraphQL returns: the stored snapshot. */
export type WellnessIndexResult = DiagnosisSnapshot;

/**
 * Runs the diagnosis of `requested` (a consent token's own person when omitted) as of `now`.
 * NOT_FOUND for a person the caller cannot see (never "exists but not yours");
 * UNAUTHORIZED_FIELD_OR_TYPE when that person's consent does not grant wellness.read.
 */
export async function runDiagnosis(
  prisma: PrismaClient,
  context: RunDiagnosisContext,
  requested: string | undefined,
  now: Date = new Date(),
): Promise<WellnessIndexResult> {
  const { viewer } = context;
  let userId: string;
  if (viewer.kind === "consent") {
    userId = requested ?? viewer.userId;
    if (userId !== viewer.userId) throw graphQLError("NOT_FOUND", `No user ${userId}`);
  } else {
    if (requested === undefined) throw badUserInput("`userId` is required with a partner token: name the person to diagnose", "userId");
    userId = requested;
  }
  if (!(await context.isVisible(userId))) throw graphQLError("NOT_FOUND", `No user ${userId}`);
  const grant = await context.person.authorise(userId);
  if (!grant) throw context.person.refusal(`run ${userId}'s diagnosis`);
  const result = await diagnoseUser(prisma, userId, now);
  if (!result) throw graphQLError("NOT_FOUND", `No user ${userId}`);
  context.person.record(grant);
  return result.snapshot;
}
