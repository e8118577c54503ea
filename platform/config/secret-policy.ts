// The secrets whose defaults are public (they are in this repository): with them anyone can
// forge the gateway's token-check seal (KEY_ENCRYPTION_KEY), authorise consents as if they were
// the person (APP_API_KEY) or act as the sandbox partner (SANDBOX_CLIENT_SECRET) or the live-flow
// demo partner (LIVE_CLIENT_SECRET). They exist so
// `npm start` works on a laptop with no setup; anywhere else the process refuses to start while
// one is in force, and refuses an explicit value that is plainly weak.
import { createHash } from "node:crypto";
import { BlockList, isIP } from "node:net";

/** For local use only: a fixed, public key (KEY_ENCRYPTION_KEY unset). */
export const LOCAL_KEY_ENCRYPTION_KEY = createHash("sha256").update("kamina-graph local development key; not a secret").digest();

/** The one command every message suggests: 32 random bytes, base64url (43 characters). */
export const GENERATE_SECRET = `node -e "console.log(require('node:crypto').randomBytes(32).toString('base64url'))"`;

/** Outside local use an explicit secret needs at least this many characters... */
export const MIN_SECRET_LENGTH = 32;
/**
 * ...and this many distinct ones, and must not be one short piece repeated. Random hex of 32
 * characters has about 14 distinct; 32 random bytes about 30 distinct byte values.
 */
const MIN_DISTINCT_CHARACTERS = 8;
const MIN_DISTINCT_BYTES = 16;

interface SecretSetting {
  variable: string;
  /** The public default: the value a variable left unset takes (undefined: none, the variable is optional). */
  publicDefault: string | undefined;
  /** What a weak explicit value is, if anything beyond the shared length and variety rules. */
  weakness(value: string): string | undefined;
}

export const SECRET_SETTINGS: readonly SecretSetting[] = [
  {
    variable: "KEY_ENCRYPTION_KEY",
    publicDefault: LOCAL_KEY_ENCRYPTION_KEY.toString("base64url"),
    weakness(value) {
      // The format (43 base64url characters, 32 bytes) is the schema's; a key that has them can
      // still be all one byte, or a short pattern repeated.
      const distinct = new Set(Buffer.from(value, "base64url")).size;
      return distinct < MIN_DISTINCT_BYTES ? `has only ${distinct} distinct bytes of 32: not random` : undefined;
    },
  },
  { variable: "APP_API_KEY", publicDefault: "kamina-app-local-key", weakness: textWeakness },
  { variable: "SANDBOX_CLIENT_SECRET", publicDefault: "kamina-sandbox-secret", weakness: textWeakness },
  { variable: "LIVE_CLIENT_SECRET", publicDefault: "kamina-live-secret", weakness: textWeakness },
];

function textWeakness(value: string): string | undefined {
  if (value.length < MIN_SECRET_LENGTH) return `is ${value.length} characters; at least ${MIN_SECRET_LENGTH} are needed`;
  const distinct = new Set(value).size;
  if (distinct < MIN_DISTINCT_CHARACTERS) return `has only ${distinct} distinct characters: not random`;
  return /^(.{1,16}?)\1+$/s.test(value) ? "is one short piece repeated: not random" : undefined;
}

export interface SecretReport {
  /** False when the process is reachable from elsewhere or runs as production (see localUse). */
  localUse: boolean;
  /** Why it is not local use, for the message ("HOST=0.0.0.0 is not a loopback address", ...). */
  exposure: string[];
  /** Variables whose public default is in force. */
  publicDefaults: string[];
  /** One line per secret that may not be used outside local use; empty when all is well. */
  problems: string[];
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** 127.0.0.0/8, ::1 (in any of its spellings, IPv4-mapped too) or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const name = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  if (name === "localhost") return true;
  const family = isIP(name);
  return family !== 0 && LOOPBACK.check(name, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Local use is a process bound to loopback, not in production, and not published at a public
 * URL (PUBLIC_URL, which a proxy in front of a loopback-bound gateway would have set).
 */
function exposureOf(env: NodeJS.ProcessEnv, host: string, publicUrl: string | undefined): string[] {
  const reasons: string[] = [];
  if (!isLoopbackHost(host)) reasons.push(`HOST=${host} is not a loopback address`);
  if (env.NODE_ENV === "production") reasons.push("NODE_ENV=production");
  if (publicUrl !== undefined && !isLoopbackHost(new URL(publicUrl).hostname)) reasons.push(`PUBLIC_URL=${publicUrl} is not on this machine`);
  return reasons;
}

/**
 * What the secret settings are worth here. `env` is the raw environment (a variable is at its
 * default when unset or empty, or set to the public default itself); the values have already
 * passed the schema.
 */
export function checkSecrets(env: NodeJS.ProcessEnv, host: string, publicUrl: string | undefined): SecretReport {
  const exposure = exposureOf(env, host, publicUrl);
  const publicDefaults: string[] = [];
  const problems: string[] = [];
  for (const setting of SECRET_SETTINGS) {
    const given = env[setting.variable];
    if (given === undefined || given === "" || given === setting.publicDefault) {
      publicDefaults.push(setting.variable);
      problems.push(`${setting.variable} is ${given ? "set to" : "left at"} its public default: set it to a secret of its own, e.g. the output of ${GENERATE_SECRET}`);
      continue;
    }
    const weakness = setting.weakness(given);
    if (weakness) problems.push(`${setting.variable} ${weakness}: set it to a random value, e.g. the output of ${GENERATE_SECRET}`);
  }
  return { localUse: exposure.length === 0, exposure, publicDefaults, problems: exposure.length === 0 ? [] : problems };
}

/** The refusal, as one message naming every offending variable. */
export function refusalMessage(report: SecretReport): string {
  return [
    `kamina-graph refuses to start: this is not local use (${report.exposure.join("; ")}), and its secrets would be public or weak:`,
    ...report.problems.map((problem) => `  - ${problem}`),
    "Each instance of a deployment needs the same values (docs/operations.md, Secrets).",
  ].join("\n");
}
