import { pino, type DestinationStream, type Logger } from "pino";
import { activeTraceIds } from "./observability/tracing.ts";

export type { Logger };

/**
 * Keys whose values are credentials or identify a person, wherever a log object carries them:
 * at its top level and one or two levels down (`req.headers.authorization`, `err.meta.userId`),
 * and in request headers logged whole. Logs carry the request id, client id and consent id instead;
 * redaction is the net under that habit, not a licence to log these.
 */
const SENSITIVE_KEYS = [
  // credentials
  "authorization",
  "cookie",
  "set-cookie",
  "dpop",
  "x-kamina-token-check",
  "x-kamina-gateway-signature",
  "token",
  "accessToken",
  "access_token",
  "refreshToken",
  "refresh_token",
  "idToken",
  "id_token",
  "secret",
  "secretHash",
  "clientSecret",
  "client_secret",
  "password",
  "apiKey",
  "api_key",
  "x-api-key",
  "signature",
  "webhook-signature",
  // people
  "userId",
  "user_id",
  "userExternalId",
  "user_external_id",
  "nationalId",
  "national_id",
  "email",
  "phone",
];

/** Headers three levels down: an HTTP client's error carries the request it sent. */
const HEADER_CONTAINERS = ["err.config.headers", "err.request.headers", "err.response.headers"];

/** pino `redact` paths: each key at the top level, one and two levels down, and the credential headers deeper. */
export const REDACTED_PATHS: readonly string[] = [
  ...SENSITIVE_KEYS.flatMap((key) => {
    const quoted = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
    const member = quoted.startsWith("[") ? quoted : `.${quoted}`;
    // Two levels down too (`err.meta.userId`, `delivery.headers.authorization`).
    return [quoted, `*${member}`, `*.*${member}`];
  }),
  ...HEADER_CONTAINERS.flatMap((container) => SENSITIVE_KEYS.slice(0, 6).map((header) => `${container}["${header}"]`)),
];

/** Structured logs; never log tokens, secrets or personal data (REDACTED_PATHS catch what slips). */
export function createLogger(level: string, name = "kamina-graph", destination?: DestinationStream): Logger {
  // trace_id and span_id on every line written inside a traced request. A fresh object each time:
  // pino merges the line's own fields into what the mixin returns.
  const options = { name, level, redact: { paths: [...REDACTED_PATHS], censor: "[redacted]" }, mixin: () => activeTraceIds() ?? {} };
  return destination ? pino(options, destination) : pino(options);
}
