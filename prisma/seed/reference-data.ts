// The fixed records every seeded database starts with: the brief's sandbox partner client, a
// live (non-sandbox) one to try the person's side of the flow with, and the consent text version
// their consent examples cite.
import { createHash } from "node:crypto";
import { CLIENT_SCOPES, USER_READ_SCOPES, USER_SCOPES } from "../../platform/auth/scopes.ts";
import { hashSecret } from "../../platform/secret-hash.ts";
import { COUNTRIES } from "./catalogue.ts";

export const DEMO_CLIENT_ID = "of_lab_demo";
export const DEMO_CLIENT_NAME = "OpenFinance Lab demo";
/**
 * A client that is not a sandbox, so the live consent flow (docs/auth.md §1: 202, the person
 * authorises in the app, the client exchanges the consent) can be tried on a laptop.
 */
export const LIVE_CLIENT_ID = "of_lab_live";
export const LIVE_CLIENT_NAME = "OpenFinance Lab live-flow demo";
/** Its local secret: public (it is here), so refused outside local use (secret-policy.ts). */
export const LOCAL_LIVE_CLIENT_SECRET = "kamina-live-secret";

// The scope catalogue is the one the token check enforces.
export { CLIENT_SCOPES, USER_READ_SCOPES, USER_SCOPES };

export const CONSENT_TEXT_VERSION = "2026-05-01";
export const CONSENT_TEXT_PUBLISHED_AT = Date.UTC(2026, 4, 1);

/** The consent text version `2026-05-01`; its sha256 is what consents pin. */
export const CONSENT_TEXT = [
  "Autorizo a Kamina a compartir con la entidad indicada mis datos de bienestar financiero",
  "(índice de bienestar, deudas, gastos, ingresos, metas de ahorro, señales del coach Kami y",
  "alertas de prevención), solo en los alcances que acepto aquí y por el tiempo indicado.",
  "Puedo revocar esta autorización en cualquier momento desde la app; la revocación detiene",
  "todo acceso nuevo. Mis datos se identifican con un seudónimo y nunca con mi número de",
  "identificación nacional.",
].join("\n");

export function consentTextSha256(): string {
  return createHash("sha256").update(CONSENT_TEXT, "utf8").digest("hex");
}

export interface PartnerClientRecord {
  id: string;
  name: string;
  secretHash: string;
  countries: readonly string[];
  allowedScopes: readonly string[];
  clientScopes: readonly string[];
  sandbox: boolean;
  createdAt: number;
}

/**
 * The sandbox client from the brief. Its salt is derived from the seed so that the same
 * options produce the same row; the secret still never appears in the database.
 */
/** The live-flow demo client: the sandbox client's countries and scopes, but its consents wait for the person. */
export async function liveClient(liveClientSecret: string, seed: number, createdAt: number): Promise<PartnerClientRecord> {
  const salt = createHash("sha256").update(`kamina-seed:${seed}:${LIVE_CLIENT_ID}`).digest().subarray(0, 16);
  return {
    id: LIVE_CLIENT_ID,
    name: LIVE_CLIENT_NAME,
    secretHash: await hashSecret(liveClientSecret, { salt }),
    countries: COUNTRIES,
    allowedScopes: USER_SCOPES,
    clientScopes: CLIENT_SCOPES,
    sandbox: false,
    createdAt,
  };
}

export async function demoClient(sandboxClientSecret: string, seed: number, createdAt: number): Promise<PartnerClientRecord> {
  const salt = createHash("sha256").update(`kamina-seed:${seed}:${DEMO_CLIENT_ID}`).digest().subarray(0, 16);
  return {
    id: DEMO_CLIENT_ID,
    name: DEMO_CLIENT_NAME,
    secretHash: await hashSecret(sandboxClientSecret, { salt }),
    countries: COUNTRIES,
    allowedScopes: USER_SCOPES,
    clientScopes: CLIENT_SCOPES,
    sandbox: true,
    createdAt,
  };
}
