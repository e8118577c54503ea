// The dashboard's back end for the front end (/dashboard/api): it signs in as the sandbox client
// through the consent flow. Tokens live in this module's memory only: never in the URL, never in
// localStorage; reloading the page signs in again.

export interface Session {
  person: { id: string; country: string };
  consentId: string;
  scopes: string[];
  personToken: string;
  partnerToken: string;
}

export interface ConsentView {
  consent_id: string;
  status: string;
  scopes: string[];
  authorised_at: string | null;
  revoked_at: string | null;
  revocation_reason: string | null;
  expires_at: string | null;
}

export interface Receipt {
  receipt_id: string;
  at: string;
  fields: string[];
  detail: Record<string, unknown> | null;
}

/** The per-user scopes a consent may grant (coach transcripts are off by default, as in the product). */
export const GRANTABLE_SCOPES = ["wellness.read", "debts.read", "expenses.read", "income.read", "goals.read", "coach.read", "alerts.read", "alerts.write", "coach.transcripts.read"];
export const DEFAULT_SCOPES = GRANTABLE_SCOPES.filter((scope) => scope !== "coach.transcripts.read");

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, credentials: "omit", ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const payload = (await response.json()) as T & { code?: string; message?: string };
  if (!response.ok) throw new ApiError(payload.code ?? "ERROR", payload.message ?? `HTTP ${response.status}`);
  return payload;
}

export async function signIn(person: string, scopes: string[]): Promise<Session> {
  const answer = await call<{ person: Session["person"]; consent_id: string; scopes: string[]; person_token: string; partner_token: string }>("POST", "/dashboard/api/session", undefined, { person, scopes });
  return { person: answer.person, consentId: answer.consent_id, scopes: answer.scopes, personToken: answer.person_token, partnerToken: answer.partner_token };
}

export function readConsent(session: Session): Promise<{ consent: ConsentView; receipts: Receipt[] }> {
  return call("GET", "/dashboard/api/consent", session.personToken);
}

export function revokeConsent(session: Session): Promise<ConsentView> {
  return call("DELETE", "/dashboard/api/consent", session.personToken);
}

/** Queues the CRM export (POST /v1/exports/wellness) and polls it until its file is ready. */
export async function exportWellness(session: Session, onStatus: (status: string) => void): Promise<string> {
  const job = await call<{ poll_url: string }>("POST", "/v1/exports/wellness", session.partnerToken, { format: "csv" });
  for (;;) {
    const state = await call<{ status: string; download_url?: string; error?: string | null }>("GET", job.poll_url, session.partnerToken);
    onStatus(state.status);
    if (state.status === "succeeded" && state.download_url) return state.download_url;
    if (state.status === "failed" || state.status === "expired") throw new ApiError("EXPORT_FAILED", state.error ?? `The export ${state.status}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
