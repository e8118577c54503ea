// An alert's lifecycle: OPEN -> ACKNOWLEDGED -> RESOLVED, or OPEN -> RESOLVED directly (a
// partner that handled an alert may close it without acknowledging it first; acknowledgedAt is
// then the same instant). Every other move is a conflict. The update is conditional on the
// status read, so two callers racing get one success and one conflict.
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { AlertStatus, Country } from "../../generated/prisma/enums.ts";
import { graphQLError } from "../../platform/errors.ts";
import type { ConsentGrant } from "../../platform/auth/consent-grants.ts";
import { tenantOf } from "../../platform/auth/tenant.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { PersonAccess } from "../shared/person-access.ts";
import type { AlertRow } from "./service.ts";

export type AlertTransition = "acknowledge" | "resolve";

/** Where each transition may start, and where it ends. */
export const TRANSITIONS: Record<AlertTransition, { from: readonly AlertStatus[]; to: AlertStatus }> = {
  acknowledge: { from: ["OPEN"], to: "ACKNOWLEDGED" },
  resolve: { from: ["OPEN", "ACKNOWLEDGED"], to: "RESOLVED" },
};

const SELECT_ALERT = {
  id: true,
  userId: true,
  type: true,
  riskBand: true,
  severity: true,
  contributingFactors: true,
  suggestedAction: true,
  status: true,
  createdAt: true,
  acknowledgedAt: true,
  resolvedAt: true,
} as const;

export function alertNotFound(id: string) {
  return graphQLError("NOT_FOUND", `No alert ${id}`);
}

/**
 * Moves an alert of one of `tenant`'s people; `mayAct(userId)` says whether the caller may act
 * for its person (checked before anything changes). Throws NOT_FOUND (unknown, or not the
 * caller's to see) or CONFLICT (the transition does not start from the alert's status).
 */
export async function transitionAlert(
  prisma: PrismaClient,
  tenant: readonly Country[],
  id: string,
  transition: AlertTransition,
  mayAct: (userId: string) => Promise<boolean>,
  now: Date = new Date(),
): Promise<AlertRow> {
  const { from, to } = TRANSITIONS[transition];
  const current = await prisma.alert.findFirst({ where: { id, country: { in: [...tenant] } }, select: SELECT_ALERT });
  if (!current || !(await mayAct(current.userId))) throw alertNotFound(id);
  if (from.includes(current.status)) {
    const data =
      to === "ACKNOWLEDGED" ? { status: to, acknowledgedAt: now } : { status: to, resolvedAt: now, ...(current.status === "OPEN" ? { acknowledgedAt: now } : {}) };
    const { count } = await prisma.alert.updateMany({ where: { id, status: current.status }, data });
    if (count === 1) return { ...current, ...data };
  }
  const latest = await prisma.alert.findUnique({ where: { id }, select: { status: true } });
  const status = latest?.status ?? current.status;
  throw graphQLError("CONFLICT", `Cannot ${transition} an alert that is ${status.toLowerCase()}; allowed from ${from.map((s) => s.toLowerCase()).join(" or ")}`, {
    status,
  });
}

/**
 * `Mutation.acknowledgeAlert` / `Mutation.resolveAlert` for one request's viewer: the alert's
 * person must have granted the caller what the field needs in the SDL (alerts.write, and the
 * returned Alert's alerts.read: a consent to read changes nothing; a consent token: only its
 * own person); what was changed goes into the consent receipt.
 */
export async function changeAlertStatus(prisma: PrismaClient, viewer: Viewer, person: PersonAccess, id: string, transition: AlertTransition): Promise<AlertRow> {
  const granted: { grant: ConsentGrant | null } = { grant: null };
  const alert = await transitionAlert(prisma, tenantOf(viewer), id, transition, async (userId) => {
    granted.grant = await person.authorise(userId);
    return granted.grant !== null;
  });
  if (granted.grant) person.record(granted.grant);
  return alert;
}
