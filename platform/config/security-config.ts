import { z } from "zod";

/**
 * What the gateway shows and admits from the outside; part of Config (`config.security`).
 * Production (NODE_ENV=production) turns the strict settings on by default; local use keeps the
 * permissive ones so `npm start` and the schema explorer work with no setup.
 */
export interface SecurityConfig {
  /**
   * TRUSTED_DOCUMENTS: `enforce` admits over HTTP only documents registered for the caller's
   * client (by SHA-256: Apollo's `extensions.persistedQuery.sha256Hash` or `documentId`) and turns
   * automatic persisted queries' registration off; `off` runs any document, APQ as usual.
   */
  trustedDocuments: "enforce" | "off";
  /** Clients that may also run the shared first-party documents (registered for client `*`). */
  firstPartyClients: readonly string[];
  /** Schema introspection (`__schema`, `__type`) at the gateway. */
  introspection: boolean;
  /** "Did you mean ...?" suggestions in validation errors (they spell out the schema). */
  suggestions: boolean;
  /** Browser origins allowed to call /graphql and /v1/* (CORS_ORIGINS, comma-separated); none by default. */
  corsOrigins: readonly string[];
  /** Send Strict-Transport-Security: the gateway is reached over https (PUBLIC_URL https, or HSTS=true). */
  hsts: boolean;
}

const flag = z.enum(["true", "false"]).optional();
const list = z
  .string()
  .default("")
  .transform((value) => value.split(",").map((item) => item.trim()).filter((item) => item !== ""));
/** An origin exactly as a browser sends it: scheme, host and port, nothing else. */
const origin = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value;
  } catch {
    return false;
  }
}, "each origin must be a scheme, host and optional port, e.g. https://app.bank.example (no path, no trailing slash)");

const environment = z.object({
  NODE_ENV: z.string().optional(),
  TRUSTED_DOCUMENTS: z.enum(["enforce", "off"]).optional(),
  TRUSTED_DOCUMENTS_FIRST_PARTY_CLIENTS: list,
  GRAPHQL_INTROSPECTION: flag,
  GRAPHQL_SUGGESTIONS: flag,
  CORS_ORIGINS: list.pipe(z.array(origin)),
  HSTS: flag,
});

/** Parsed with the rest of the configuration (platform/config/config.ts), once, at start. */
export function securityConfigSchema() {
  return environment;
}

export function toSecurityConfig(values: z.infer<typeof environment>, publicUrl: string | undefined): SecurityConfig {
  const production = values.NODE_ENV === "production";
  const on = (given: "true" | "false" | undefined, fallback: boolean) => (given === undefined ? fallback : given === "true");
  return {
    trustedDocuments: values.TRUSTED_DOCUMENTS ?? (production ? "enforce" : "off"),
    firstPartyClients: values.TRUSTED_DOCUMENTS_FIRST_PARTY_CLIENTS,
    introspection: on(values.GRAPHQL_INTROSPECTION, !production),
    suggestions: on(values.GRAPHQL_SUGGESTIONS, !production),
    corsOrigins: values.CORS_ORIGINS,
    hsts: on(values.HSTS, publicUrl?.startsWith("https:") ?? false),
  };
}
