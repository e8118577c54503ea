import DataLoader from "dataloader";

/**
 * Batches "rows of these users" reads: every resolver that runs once per user asks here,
 * and one query per distinct argument set answers them all. Created per request.
 */
export class PerUserLoader<Row, Args = undefined> {
  private readonly loaders = new Map<string, DataLoader<string, Row[]>>();

  constructor(
    private readonly fetch: (userIds: readonly string[], args: Args) => Promise<readonly Row[]>,
    private readonly userIdOf: (row: Row) => string,
  ) {}

  load(userId: string, args: Args): Promise<Row[]> {
    return this.loaderFor(args).load(userId);
  }

  /** Rows of `userId` another statement already read, so a later `load` in this request asks nothing. */
  prime(userId: string, args: Args, rows: Row[]): void {
    this.loaderFor(args).prime(userId, rows);
  }

  async loadOne(userId: string, args: Args): Promise<Row | null> {
    const rows = await this.load(userId, args);
    return rows[0] ?? null;
  }

  private loaderFor(args: Args): DataLoader<string, Row[]> {
    const key = args === undefined ? "" : keyOf(args);
    let loader = this.loaders.get(key);
    if (!loader) {
      loader = new DataLoader<string, Row[]>(async (userIds) => {
        const rows = await this.fetch(userIds, args);
        const byUser = new Map<string, Row[]>();
        for (const row of rows) {
          const id = this.userIdOf(row);
          const list = byUser.get(id);
          if (list) list.push(row);
          else byUser.set(id, [row]);
        }
        return userIds.map((id) => byUser.get(id) ?? []);
      }, { maxBatchSize: 1000 });
      this.loaders.set(key, loader);
    }
    return loader;
  }
}

/**
 * Equal arguments, equal keys. JSON.stringify with a replacer costs several times as much as
 * without one, and only a cursor's bigint needs it (JSON.stringify throws on a bigint).
 */
function keyOf(args: unknown): string {
  try {
    return JSON.stringify(args);
  } catch {
    return JSON.stringify(args, (_name, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
  }
}
