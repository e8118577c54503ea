// `npm run seed -- --users N --seed S`: fills an empty database with deterministic
// synthetic data (the brief's demo client and user plus N-1 generated households).
// Targets DATABASE_URL when set, else the embedded PGlite under ${DATA_DIR:-.data}/pglite,
// applying pending migrations first. The demo client's secret comes from
// SANDBOX_CLIENT_SECRET (default `kamina-sandbox-secret`), the live-flow client's from
// LIVE_CLIENT_SECRET (default `kamina-live-secret`); only their scrypt hashes are stored.
// Exit codes: 0 seeded, 1 failed or refused (database not empty), 2 bad arguments.
import { loadConfig } from "../platform/config/config.ts";
import { openDatabaseFromEnvironment } from "../platform/database/database-from-environment.ts";
import { applyMigrations } from "../platform/database/schema-engine.ts";
import { isEmpty, seedDatabase } from "../prisma/seed/index.ts";

const USAGE = `usage: npm run seed -- [--users N] [--seed S]
  --users N   users to create, the demo user USR_42891 included (default 200)
  --seed S    integer seed; the same seed and day give the same data (default 42)
environment: DATABASE_URL (else embedded PGlite under DATA_DIR, default .data),
             SANDBOX_CLIENT_SECRET (default kamina-sandbox-secret),
             LIVE_CLIENT_SECRET (default kamina-live-secret),
             KEY_ENCRYPTION_KEY (wraps the data keys sealing coach transcripts)`;

const MAX_USERS = 10_000_000;

class UsageError extends Error {}

interface Arguments {
  users: number;
  seed: number;
}

function parseInteger(flag: string, raw: string | undefined, min: number, max: number): number {
  if (raw === undefined || !/^-?\d+$/.test(raw.trim())) throw new UsageError(`${flag} needs an integer, got ${raw === undefined ? "nothing" : `"${raw}"`}`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`${flag} must be between ${min} and ${max}, got ${raw}`);
  return value;
}

function parseArguments(argv: readonly string[]): Arguments | "help" {
  const result: Arguments = { users: 200, seed: 42 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--help" || arg === "-h") return "help";
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (flag === "--users") result.users = parseInteger("--users", value(), 0, MAX_USERS);
    else if (flag === "--seed") result.seed = parseInteger("--seed", value(), -(2 ** 31), 2 ** 32 - 1);
    else throw new UsageError(`unknown argument "${arg}"`);
  }
  return result;
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;

async function main(): Promise<number> {
  let args: Arguments | "help";
  try {
    args = parseArguments(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`seed: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }

  const secret = process.env.SANDBOX_CLIENT_SECRET || "kamina-sandbox-secret";
  const liveSecret = process.env.LIVE_CLIENT_SECRET || "kamina-live-secret";
  // Coach transcripts are sealed under data keys wrapped by the server's KEY_ENCRYPTION_KEY.
  const { keyEncryptionKey } = loadConfig().tokens;
  const { target, where, close } = await openDatabaseFromEnvironment(2);

  try {
    await applyMigrations(target);
    if (!(await isEmpty(target))) {
      console.error(`seed: ${where} already has users or partner clients; seeding only runs on an empty database`);
      return 1;
    }
    console.log(`seeding ${args.users} users (seed ${args.seed}) into ${where}`);
    let lastPrinted = 0;
    const report = await seedDatabase(target, {
      users: args.users,
      seed: args.seed,
      sandboxClientSecret: secret,
      liveClientSecret: liveSecret,
      keyEncryptionKey,
      onProgress(done, total) {
        // About twenty lines however large the run.
        if (done === total || done - lastPrinted >= Math.max(1, Math.floor(total / 20))) {
          lastPrinted = done;
          console.log(`  ${done}/${total} users`);
          if (done === total) console.log("  rebuilding indexes and statistics");
        }
      },
    });
    const width = Math.max(...Object.keys(report.counts).map((table) => table.length));
    console.log(`seeded as of ${report.asOf}:`);
    for (const [table, count] of Object.entries(report.counts)) console.log(`  ${table.padEnd(width)}  ${count}`);
    const total = Object.values(report.counts).reduce((a, b) => a + b, 0);
    console.log(`  ${"total rows".padEnd(width)}  ${total}`);
    console.log(`elapsed ${(report.elapsedMs / 1000).toFixed(1)} s, peak RSS ${mib(process.resourceUsage().maxRSS)}`);
    return 0;
  } finally {
    await close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`seed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
