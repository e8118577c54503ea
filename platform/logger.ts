import { pino, type Logger } from "pino";

export type { Logger };

/** Structured logs; never log tokens, secrets or personal data. */
export function createLogger(level: string, name = "kamina-graph"): Logger {
  return pino({
    name,
    level,
    redact: { paths: ["req.headers.authorization", "*.authorization", "*.token", "*.secret"], censor: "[redacted]" },
  });
}
