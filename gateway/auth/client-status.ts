import { firstMomentAfterCutoff } from "../../platform/auth/client-suspension-cutoff.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { AuthError } from "./auth-error.ts";
import { announceRevocation } from "./revocation-notice.ts";

export interface ClientStatusChange {
  clientId: string;
  status: "ACTIVE" | "SUSPENDED";
  /** False when the client already had that status (suspending twice is not an error). */
  changed: boolean;
  /** Access tokens issued up to this moment's second are refused for good. */
  tokensNotBefore: Date | null;
}

/**
 * Suspends a partner client. Like a revocation, it takes effect on the very next request at the
 * gateway and at every subgraph port (each token check reads the client's status), and its open
 * subscriptions close at once on every gateway (the notice goes out when the change commits).
 * The rule: every access token the client holds is revoked, for good; its consents stay as they
 * are, and so do their refresh tokens, which it cannot use while suspended (the token endpoint
 * authenticates the client, and refuses a suspended one). Once reinstated, the client refreshes
 * to get new access tokens; the person does not have to consent again.
 */
export async function suspendClient(prisma: PrismaClient, clientId: string): Promise<ClientStatusChange> {
  return prisma.$transaction(async (tx) => {
    const now = new Date();
    const { count } = await tx.partnerClient.updateMany({ where: { id: clientId, status: "ACTIVE" }, data: { status: "SUSPENDED", tokensNotBefore: now } });
    if (count === 0) {
      const client = await tx.partnerClient.findUnique({ where: { id: clientId }, select: { tokensNotBefore: true } });
      if (!client) throw new AuthError("NOT_FOUND", `No client ${clientId}`);
      return { clientId, status: "SUSPENDED", changed: false, tokensNotBefore: client.tokensNotBefore };
    }
    await announceRevocation(tx, { clientIds: [clientId] });
    return { clientId, status: "SUSPENDED", changed: true, tokensNotBefore: now };
  });
}

/**
 * Lets a suspended client work again. The tokens the suspension revoked stay revoked: `iat`
 * counts whole seconds, so this waits until the second of the suspension has passed (at most a
 * second), and every token issued from now on is told apart from them.
 */
export async function reinstateClient(prisma: PrismaClient, clientId: string): Promise<ClientStatusChange> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const client = await prisma.partnerClient.findUnique({ where: { id: clientId }, select: { status: true, tokensNotBefore: true } });
    if (!client) throw new AuthError("NOT_FOUND", `No client ${clientId}`);
    if (client.status === "ACTIVE") return { clientId, status: "ACTIVE", changed: false, tokensNotBefore: client.tokensNotBefore };
    if (client.tokensNotBefore) {
      const wait = firstMomentAfterCutoff(client.tokensNotBefore) - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    // Only the suspension read above: one made meanwhile has a later cut-off to wait for.
    const { count } = await prisma.partnerClient.updateMany({
      where: { id: clientId, status: "SUSPENDED", tokensNotBefore: client.tokensNotBefore },
      data: { status: "ACTIVE" },
    });
    if (count === 1) return { clientId, status: "ACTIVE", changed: true, tokensNotBefore: client.tokensNotBefore };
  }
  throw new AuthError("CONFLICT", `Client ${clientId} is changing concurrently; try again`);
}
