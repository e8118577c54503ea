// What every benchmark script does around its measurements: undo what it set up (databases,
// server children, folders) once, whether it succeeds, fails, runs out of time or is interrupted.

/** Everything to undo, newest first. */
export class Cleanups {
  private readonly list: { name: string; run: () => Promise<void> }[] = [];
  private cleaning: Promise<void> | undefined;

  constructor(private readonly timeoutMs = 30_000) {}

  add(name: string, run: () => Promise<void>): void {
    this.list.push({ name, run });
  }

  /** Takes back `run`: it was undone on the way (a server child stopped between rounds). */
  remove(run: () => Promise<void>): void {
    const index = this.list.findIndex((entry) => entry.run === run);
    if (index >= 0) this.list.splice(index, 1);
  }

  /** Takes back the newest one. */
  pop(): void {
    this.list.pop();
  }

  runAll(): Promise<void> {
    return (this.cleaning ??= (async () => {
      for (const { name, run } of this.list.splice(0).reverse()) {
        try {
          await withTimeout(run(), this.timeoutMs, `cleanup: ${name}`);
        } catch (error) {
          console.error(`[bench] cleanup of ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    })());
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]);
}

/**
 * Runs a benchmark's body within `budgetMs` (if given), cleaning up after it and on SIGINT or
 * SIGTERM; answers the exit code (0 done, 1 failed, 130 interrupted).
 */
export async function runBenchmark(body: () => Promise<void>, cleanups: Cleanups, budgetMs?: number): Promise<number> {
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`[bench] ${signal}: cleaning up`);
    void cleanups.runAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await (budgetMs === undefined ? body() : withTimeout(body(), budgetMs, "the benchmark"));
    return 0;
  } catch (error) {
    console.error(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  } finally {
    await cleanups.runAll();
  }
}

export interface BenchmarkCli<Options> {
  usage: string;
  /** Throws on a bad argument; the message is printed above the usage. */
  parse(argv: string[]): Options;
  run(options: Options): Promise<void>;
  cleanups: Cleanups;
  /** The whole run's time budget, from the options; none by default. */
  budgetMs?(options: Options): number;
}

/**
 * A benchmark script's whole life: its arguments (a bad one: the message and the usage, exit
 * code 2), then runBenchmark. Sets the exit code, and never lets a stray handle (autocannon, pg,
 * sockets) keep the process alive after it.
 */
export async function runBenchmarkCli<Options>(cli: BenchmarkCli<Options>): Promise<void> {
  try {
    let options: Options;
    try {
      options = cli.parse(process.argv.slice(2));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(message ? `${message}\n${cli.usage}` : cli.usage);
      process.exitCode = 2;
      return;
    }
    process.exitCode = await runBenchmark(() => cli.run(options), cli.cleanups, cli.budgetMs?.(options));
  } finally {
    setTimeout(() => process.exit(process.exitCode ?? 0), 1_000).unref();
  }
}
