import { APP_SEES_OUR_IDS, type ShowPerson } from "../pairwise/client-person-ids.ts";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PartnerClient } from "../../generated/prisma/client.ts";
import type { AuthApi } from "../auth/auth-api.ts";
import { AuthError } from "../auth/auth-error.ts";
import { isAppKey } from "../auth/client-authentication.ts";
import type { ConsentActor } from "../auth/consent-service.ts";
import { meterOf } from "../rate-limit/request-meter.ts";

export const APP_KEY_HEADER = "x-kamina-app-key";

/**
 * A partner client authenticated with HTTP Basic; a failure asks for Basic credentials. Failures
 * count against the client id and the address (429 past their quota), and the request against
 * the client once it is authenticated.
 */
export async function requireClient(api: AuthApi, request: IncomingMessage, response: ServerResponse): Promise<PartnerClient> {
  let client: PartnerClient;
  try {
    client = await api.clients.authenticate(request.headers.authorization, request.socket.remoteAddress);
  } catch (error) {
    if (error instanceof AuthError && error.code === "UNAUTHENTICATED") response.setHeader("www-authenticate", 'Basic realm="kamina-graph", charset="UTF-8"');
    throw error;
  }
  await api.rateLimits.countRequest(meterOf(request), client.id, client.sandbox);
  return client;
}

/** The Kamina app, acting for the person (it stands in for the app's own session). */
export function requireApp(api: AuthApi, request: IncomingMessage): void {
  if (!isAppKey(request.headers[APP_KEY_HEADER], api.appApiKey)) {
    throw new AuthError("UNAUTHENTICATED", `This call is the Kamina app's: send its key in \`${APP_KEY_HEADER}\``);
  }
}

/** The app when it sends its key, otherwise a partner client. */
export async function requireClientOrApp(api: AuthApi, request: IncomingMessage, response: ServerResponse): Promise<{ actor: ConsentActor; show: ShowPerson }> {
  if (request.headers[APP_KEY_HEADER] !== undefined) {
    requireApp(api, request);
    return { actor: { kind: "app" }, show: APP_SEES_OUR_IDS };
  }
  const client = await requireClient(api, request, response);
  return { actor: { kind: "client", clientId: client.id }, show: api.people.showTo(client) };
}
