/**
 * Per-user scopes: a person grants them to a client by consent. Every one reads, except
 * alerts.write: changing an alert's status (acknowledge, resolve) is a write of its own, so a
 * consent to read never changes anything (runDiagnosis, under wellness.read, stores only that
 * day's derived snapshot).
 */
export const USER_SCOPES = [
  "wellness.read",
  "debts.read",
  "expenses.read",
  "income.read",
  "goals.read",
  "coach.read",
  "alerts.read",
  "alerts.write",
  "coach.transcripts.read",
  "cohorts.read",
] as const;

/** Per-client scopes: granted to the partner client itself, not by a person. */
export const CLIENT_SCOPES = ["reports.read", "exports.create", "webhooks.manage"] as const;

export type UserScope = (typeof USER_SCOPES)[number];
export type ClientScope = (typeof CLIENT_SCOPES)[number];
export type Scope = UserScope | ClientScope;

/** The per-user scopes that only read: what a consent asks for when it asks to read "everything". */
export const USER_READ_SCOPES = USER_SCOPES.filter((scope) => scope.endsWith(".read"));

const ALL: ReadonlySet<string> = new Set([...USER_SCOPES, ...CLIENT_SCOPES]);

export function isScope(value: string): value is Scope {
  return ALL.has(value);
}

/** The token's `scope` claim: one space-separated string (RFC 8693 / Apollo Router). */
export function parseScopeClaim(claim: unknown): Set<string> {
  return new Set(typeof claim === "string" ? claim.split(" ").filter(Boolean) : []);
}

/**
 * `@requiresScopes(scopes: [[...]])`: the outer list is OR, the inner AND. Several
 * requirements on one element (field, return type, several subgraphs) are AND-ed.
 */
export type ScopeRequirement = readonly (readonly string[])[];

export function satisfies(granted: ReadonlySet<string>, requirements: readonly ScopeRequirement[]): boolean {
  return requirements.every((alternatives) => alternatives.some((all) => all.every((scope) => granted.has(scope))));
}
