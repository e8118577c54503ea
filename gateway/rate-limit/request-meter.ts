// What one request learnt of the limits it was counted against, as the IETF RateLimit header
// fields say it (draft-ietf-httpapi-ratelimit-headers-09): `RateLimit-Policy` names each quota
// and its window, `RateLimit` what is left of it and in how many seconds the window ends.
//   RateLimit-Policy: "requests";q=1200;w=60, "cost";q=2000000;w=60
//   RateLimit: "requests";r=1187;t=42, "cost";r=1996000;t=42
import type { IncomingMessage, ServerResponse } from "node:http";

/** A quota: `quota` points per `windowSeconds`, named as the headers and docs/operations.md name it. */
export interface Policy {
  name: string;
  quota: number;
  windowSeconds: number;
}

/** Where a request stands against one policy once counted. */
export interface LimitState {
  policy: Policy;
  remaining: number;
  /** Seconds until the window ends and the quota is whole again. */
  resetSeconds: number;
}

export class RequestMeter {
  private readonly states = new Map<string, LimitState>();

  /** `onRecord` runs after each count, e.g. to set the headers on a response not yet sent. */
  constructor(private readonly onRecord?: (meter: RequestMeter) => void) {}

  record(state: LimitState): void {
    this.states.set(state.policy.name, state);
    this.onRecord?.(this);
  }

  /** The two header fields, or none before any count. */
  headers(): [string, string][] {
    return headersOf([...this.states.values()]);
  }
}

/** Structured-field lists (RFC 9651): the policy's name as a String, integer parameters. */
export function headersOf(states: readonly LimitState[]): [string, string][] {
  if (states.length === 0) return [];
  const name = (state: LimitState) => `"${state.policy.name}"`;
  return [
    ["ratelimit-policy", states.map((state) => `${name(state)};q=${state.policy.quota};w=${state.policy.windowSeconds}`).join(", ")],
    ["ratelimit", states.map((state) => `${name(state)};r=${state.remaining};t=${state.resetSeconds}`).join(", ")],
  ];
}

const meters = new WeakMap<IncomingMessage, RequestMeter>();

/** The meter of a REST request, whose counts set the headers on its response until the answer starts. */
export function meterResponse(request: IncomingMessage, response: ServerResponse): RequestMeter {
  const meter = new RequestMeter((counted) => {
    if (response.headersSent) return;
    for (const [field, value] of counted.headers()) response.setHeader(field, value);
  });
  meters.set(request, meter);
  return meter;
}

/** The request's meter (meterResponse), or one of its own for a request served some other way. */
export function meterOf(request: IncomingMessage): RequestMeter {
  let meter = meters.get(request);
  if (!meter) meters.set(request, (meter = new RequestMeter()));
  return meter;
}
