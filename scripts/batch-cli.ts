// What the batch jobs (`npm run diagnose:all`, `npm run prevention:evaluate`) share: the
// arguments, the database from the environment (DATABASE_URL, else the embedded PGlite under
// DATA_DIR), and a memory/time report. Exit codes: 0 done, 1 failed, 2 bad arguments.
import { loadConfig } from "../platform/config/config.ts";
import { allTenants, createPrismaClient, type PrismaClient } from "../platform/database/database.ts";
import { openDatabaseFromEnvironment } from "../platform/database/database-from-environment.ts";
import { pipelineUserBatches } from "../subgraphs/shared/household/user-batches.ts";

export interface BatchArguments {
  batchSize: number;
  /** Reference instant; defaults to now. */
  now: Date;
  /** Process at most this many users (benchmarks). */
  limit: number | undefined;
}

export class UsageError extends Error {}

export function parseBatchArguments(argv: readonly string[], usage: string): BatchArguments | "help" {
  const result: BatchArguments = { batchSize: 1000, now: new Date(), limit: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") return "help";
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const raw = inline ?? argv[++i];
      if (raw === undefined) throw new UsageError(`${flag} needs a value\n${usage}`);
      return raw;
    };
    if (flag === "--batch") result.batchSize = positiveInteger(flag, value(), usage);
    else if (flag === "--limit") result.limit = positiveInteger(flag, value(), usage);
    else if (flag === "--now") {
      const raw = value();
      const date = new Date(raw);
      if (Number.isNaN(date.getTime())) throw new UsageError(`--now needs an ISO date or instant, got "${raw}"\n${usage}`);
      result.now = date;
    } else throw new UsageError(`unknown argument "${arg}"\n${usage}`);
  }
  return result;
}

function positiveInteger(flag: string, raw: string, usage: string): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < 1) throw new UsageError(`${flag} needs a positive integer, got "${raw}"\n${usage}`);
  return value;
}

export interface BatchDatabase {
  prisma: PrismaClient;
  where: string;
  close(): Promise<void>;
}

export async function openBatchDatabase(): Promise<BatchDatabase> {
  const { target, where, close } = await openDatabaseFromEnvironment(Math.min(loadConfig().dbPoolSize, 8));
  const prisma = createPrismaClient(target, { access: allTenants("batch-job") });
  return {
    prisma,
    where,
    async close() {
      await prisma.$disconnect();
      await close();
    },
  };
}

/** Samples resident memory, to show it stays flat as the job goes through the users. */
export class MemoryTrace {
  private readonly samples: { users: number; rssMiB: number; heapMiB: number }[] = [];

  sample(users: number): void {
    const usage = process.memoryUsage();
    this.samples.push({ users, rssMiB: usage.rss / 2 ** 20, heapMiB: usage.heapUsed / 2 ** 20 });
  }

  /** Up to `count` evenly spaced samples, for the report. */
  summary(count = 6): string {
    if (this.samples.length === 0) return "no samples";
    const step = Math.max(1, Math.floor(this.samples.length / count));
    const picked = this.samples.filter((_, i) => i % step === 0 || i === this.samples.length - 1);
    return picked.map((s) => `${s.users} users: rss ${s.rssMiB.toFixed(0)} MiB, heap ${s.heapMiB.toFixed(0)} MiB`).join("\n  ");
  }

  peakRssMiB(): number {
    return process.resourceUsage().maxRSS / 1024;
  }
}

export function runCli(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(error.message);
        process.exitCode = 2;
        return;
      }
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    },
  );
}

export interface BatchJob<Loaded> {
  usage: string;
  load(prisma: PrismaClient, userIds: string[], now: Date): Promise<Loaded>;
  process(prisma: PrismaClient, loaded: Loaded, now: Date): Promise<void>;
  /** The job's own lines of the final report. */
  report(run: { users: number; batches: number; batchSize: number; seconds: number; where: string }): string[];
}

/**
 * The whole life of a batch job over every user: arguments, database, batches (the next one
 * loading while the current one is processed), progress every ten batches, the job's report
 * and the memory trace.
 */
export function runBatchJob<Loaded>(job: BatchJob<Loaded>): void {
  runCli(async () => {
    const args = parseBatchArguments(process.argv.slice(2), job.usage);
    if (args === "help") {
      console.log(job.usage);
      return 0;
    }
    const database = await openBatchDatabase();
    try {
      const memory = new MemoryTrace();
      const started = performance.now();
      const elapsed = () => (performance.now() - started) / 1000;
      const progress = await pipelineUserBatches(
        database.prisma,
        args.batchSize,
        (ids) => job.load(database.prisma, ids, args.now),
        async (loaded, { users, batches }) => {
          await job.process(database.prisma, loaded, args.now);
          memory.sample(users);
          if (batches % 10 === 0) console.log(`  ${users} users, ${elapsed().toFixed(1)} s`);
        },
        args.limit === undefined ? {} : { limit: args.limit },
      );
      const lines = job.report({ ...progress, batchSize: args.batchSize, seconds: elapsed(), where: database.where });
      console.log([...lines, `memory:\n  ${memory.summary()}`, `peak RSS ${memory.peakRssMiB().toFixed(0)} MiB`].join("\n"));
      return 0;
    } finally {
      await database.close();
    }
  });
}
