// RFC 6750 §3: every 401 for a protected resource says how to authenticate. No token (no
// `Authorization`, or another scheme): the bare challenge, with no error code. A `Bearer` or `DPoP`
// token that was sent and refused: `error="invalid_token"` with the reason, in its own scheme.

export const REALM = "kamina-graph";

/** The `WWW-Authenticate` value for a request whose `Authorization` header (if any) did not do. */
export function tokenChallenge(authorization: string | undefined, reason: string): string {
  const sent = /^(bearer|dpop)\b/i.exec(authorization ?? "")?.[1]?.toLowerCase();
  const scheme = sent === "dpop" ? "DPoP" : "Bearer";
  if (sent === undefined) return `${scheme} realm="${REALM}"`;
  return `${scheme} realm="${REALM}", error="invalid_token", error_description="${quotable(reason)}"`;
}

/** A quoted-string's content: printable ASCII without quotes or backslashes. */
export function quotable(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, "");
}
