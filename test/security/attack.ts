// The shape of one attack of `npm run test:security`: what it tries, how it is answered, and
// what that answer must be. An attack's `expect` is the one refusal it must get (status and
// code), never "anything but 200".
import type { SecurityContext } from "./context.ts";
import type { Outcome } from "./outcome.ts";

export type { Outcome };

export interface Expectation {
  /** The HTTP status (or the WebSocket close code, or the process's exit code, as the attack says). */
  status: number;
  /** The error code; null: none (e.g. an answer whose injection matched nothing). Undefined: not checked. */
  code?: string | null;
  /** Further conditions on the answer: a sentence saying what is wrong, or undefined when it holds. */
  check?: (outcome: Outcome) => string | undefined;
  /** What the expected answer means, for the table of attacks. */
  means?: string;
}

export type Phase =
  /** Run in the concurrent pool with the others. */
  | "main"
  /** Run after the doomed client has been suspended (mid-run). */
  | "suspended"
  /** Run one at a time at the end: rate limits, socket caps and child processes, which would disturb the others. */
  | "serial";

export interface Attack {
  /** Unique, stable: `<class>/<what>`. */
  id: string;
  class: string;
  description: string;
  phase?: Phase;
  run(ctx: SecurityContext): Promise<Outcome>;
  expect: Expectation;
  /**
   * Sent to a subgraph's own port. Once subgraphs serve only the gateway (issue 16, cause 5; the
   * stack tells by a probe), such a request must meet GATEWAY_SIGNATURE_REQUIRED before anything
   * else: that replaces `expect` (plus `gatedCheck`, when given), and `pending` no longer applies.
   */
  subgraphPort?: boolean;
  gatedCheck?: (outcome: Outcome) => string | undefined;
  /** How long the attack may take (default 20 s). */
  timeoutMs?: number;
  /** The feature it needs is not on HEAD yet: run, reported apart, never counted as passed. */
  pending?: string;
  /** A hole this suite found and nobody has closed yet: reported apart and visibly, and it fails the run. */
  knownHole?: string;
}

/** Anything that answers a client should never show: a stack, SQL, a file path, a connection detail. */
const LEAKS = /\bat [\w.<>]+ \(|\.ts:\d+|node_modules|\/work\/|PrismaClient|prisma\.\w+\(|Invalid `prisma|syntax error at or near|relation "\w+" does not exist|invalid byte sequence|invalid input syntax for|ECONNREFUSED|duplicate key value|violates .* constraint/i;

/** Why `outcome` is not what `expect` says, or undefined when it is. */
export function mismatch(outcome: Outcome, expect: Expectation): string | undefined {
  const problems: string[] = [];
  if (outcome.status !== expect.status) problems.push(`status ${outcome.status}, expected ${expect.status}`);
  if (expect.code !== undefined && outcome.code !== expect.code) problems.push(`code ${outcome.code}, expected ${expect.code}`);
  if (problems.length === 0 && expect.check) {
    const problem = expect.check(outcome);
    if (problem) problems.push(problem);
  }
  const text = typeof outcome.body === "string" ? outcome.body : JSON.stringify(outcome.body ?? "");
  const leaked = LEAKS.exec(text ?? "");
  if (leaked) problems.push(`the answer leaks "${leaked[0]}"`);
  return problems.length ? problems.join("; ") : undefined;
}

/** Shorthands for the refusals most attacks expect. */
export const refused = {
  unauthenticated: { status: 401, code: "UNAUTHENTICATED", means: "401 UNAUTHENTICATED, no data" } satisfies Expectation,
  badInput: { status: 400, code: "BAD_USER_INPUT" } satisfies Expectation,
  notFound: { status: 404, code: "NOT_FOUND" } satisfies Expectation,
  forbidden: { status: 403, code: "FORBIDDEN" } satisfies Expectation,
  tooComplex: (limit: string): Expectation => ({
    status: 400,
    code: "OPERATION_TOO_COMPLEX",
    check: (outcome) => (errorsOf(outcome)[0]?.extensions?.limit === limit ? undefined : `limit ${String(errorsOf(outcome)[0]?.extensions?.limit)}, expected ${limit}`),
  }),
};

export interface GraphQLErrorShape {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}

export function errorsOf(outcome: Outcome): GraphQLErrorShape[] {
  const body = outcome.body as { errors?: GraphQLErrorShape[] } | undefined;
  return Array.isArray(body?.errors) ? body.errors : [];
}

export function dataOf(outcome: Outcome): Record<string, unknown> | null | undefined {
  return (outcome.body as { data?: Record<string, unknown> | null } | undefined)?.data;
}

/** A check that the answer carries no data at all beside its error. */
export const noData = (outcome: Outcome): string | undefined => (dataOf(outcome) == null ? undefined : `data beside the error: ${JSON.stringify(dataOf(outcome)).slice(0, 200)}`);

/** Every error of the answer has one of `codes`, and there is at least one. */
export function allErrors(...codes: string[]) {
  return (outcome: Outcome): string | undefined => {
    const errors = errorsOf(outcome);
    if (errors.length === 0) return "no error";
    const other = errors.find((error) => !codes.includes(String(error.extensions?.code)));
    return other ? `an error coded ${String(other.extensions?.code)}: ${other.message}` : undefined;
  };
}

/** The value at `path` of the answer's data. */
export function at(outcome: Outcome, ...path: (string | number)[]): unknown {
  let value: unknown = dataOf(outcome);
  for (const key of path) value = value == null ? undefined : (value as Record<string | number, unknown>)[key];
  return value;
}

export function both(...checks: ((outcome: Outcome) => string | undefined)[]) {
  return (outcome: Outcome): string | undefined => {
    for (const check of checks) {
      const problem = check(outcome);
      if (problem) return problem;
    }
    return undefined;
  };
}

/** What a subgraph port answers a request the gateway did not sign (issue 16, cause 5). */
export const GATEWAY_SIGNATURE_REQUIRED: Expectation = { status: 401, code: "GATEWAY_SIGNATURE_REQUIRED", means: "401: subgraphs serve only the gateway", check: noData };

/** The expectation and pending mark that hold for this stack. */
export function resolve(attack: Attack, subgraphsGated: boolean): { expect: Expectation; pending: string | undefined } {
  if (attack.subgraphPort && subgraphsGated) {
    const gatedCheck = attack.gatedCheck;
    return { expect: gatedCheck ? { ...GATEWAY_SIGNATURE_REQUIRED, check: both(noData, gatedCheck) } : GATEWAY_SIGNATURE_REQUIRED, pending: undefined };
  }
  return { expect: attack.expect, pending: attack.pending };
}
