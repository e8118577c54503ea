// `npm run client:suspend -- <client_id>` and `npm run client:reinstate -- <client_id>`: an
// operator stops a partner client, or lets it work again (gateway/auth/client-status.ts has the
// rule). Works on DATABASE_URL, else the embedded PGlite under DATA_DIR (then with the server
// stopped: PGlite is one process's database). Exit codes: 0 done (or nothing to change),
// 1 failed (no such client), 2 bad arguments.
import { reinstateClient, suspendClient } from "../gateway/auth/client-status.ts";
import { runCommand, withDatabase } from "./operator-command.ts";

const ACTIONS = { suspend: suspendClient, reinstate: reinstateClient } as const;
const USAGE = `usage: npm run client:suspend -- <client_id>
       npm run client:reinstate -- <client_id>
environment: DATABASE_URL (else embedded PGlite under DATA_DIR, default .data)`;

async function main(argv: readonly string[]): Promise<number> {
  const [action, clientId, ...rest] = argv;
  if (!action || !(action in ACTIONS) || !clientId || rest.length > 0 || clientId.startsWith("-")) {
    console.error(USAGE);
    return 2;
  }
  return withDatabase(async (prisma, where) => {
    const change = await ACTIONS[action as keyof typeof ACTIONS](prisma, clientId);
    if (!change.changed) {
      console.log(`client ${clientId} is already ${change.status} (${where}); nothing changed`);
    } else if (change.status === "SUSPENDED") {
      console.log(
        `client ${clientId} is SUSPENDED (${where}): every access token it holds is revoked, at the gateway, at each subgraph and on open subscriptions; ` +
          "its consents and refresh tokens are kept for when it is reinstated",
      );
    } else {
      console.log(`client ${clientId} is ACTIVE again (${where}): the access tokens revoked by its suspension stay revoked; it refreshes to get new ones`);
    }
    return 0;
  });
}

runCommand("client-status", main);
