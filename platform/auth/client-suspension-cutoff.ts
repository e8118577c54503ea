// Suspending a client ends every access token it holds, and reinstating it brings none back.
// The cut is by issue time: `partner_client.tokens_not_before` is set when the client is
// suspended, and a token is refused when its `iat` falls at or before that moment. `iat` counts
// whole seconds, so a token from the very second of the suspension cannot be told apart from
// one issued just before it: it is refused too, and reinstatement waits for that second to pass
// (gateway/auth/client-status.ts), so every token issued after reinstatement is newer.

/** True when a token issued at `issuedAt` (seconds, `iat`) came before the client's cut-off. */
export function issuedBeforeCutoff(issuedAt: number | undefined, tokensNotBefore: Date | null): boolean {
  if (tokensNotBefore === null) return false;
  if (issuedAt === undefined || !Number.isFinite(issuedAt)) return true;
  return issuedAt <= Math.floor(tokensNotBefore.getTime() / 1000);
}

/** The first moment (ms) a newly issued token is told apart from those the cut-off ends. */
export function firstMomentAfterCutoff(tokensNotBefore: Date): number {
  return (Math.floor(tokensNotBefore.getTime() / 1000) + 1) * 1000;
}
