import type { ErrorCode } from "../../platform/errors.ts";

/**
 * An expected failure of a consent or token operation, with its catalogued code. The
 * services throw it; the REST router answers it in the error envelope.
 */
export class AuthError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
