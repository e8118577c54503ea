import type { PGlite } from "@electric-sql/pglite";
import { startGateway, type RunningGateway } from "../gateway/server.ts";
import { applyMigrations } from "../platform/database/schema-engine.ts";
import { SUBGRAPHS } from "../subgraphs/index.ts";
import { EMBEDDED_ACCESS_WARNING, openEmbeddedDatabase, type DatabaseTarget } from "../platform/database/database.ts";
import { startSubgraph, type RunningSubgraph } from "../subgraphs/shared/subgraph-server.ts";
import { SUBGRAPH_NAMES, type Config, type SubgraphName } from "../platform/config/config.ts";
import type { Logger } from "../platform/logger.ts";
import { importExpenses } from "./expense-imports.ts";
import { startRealtimeWorkers, type RunningRealtimeWorkers } from "./realtime-workers.ts";

/** One piece, for `--only`: the gateway, a subgraph, or the realtime workers (outbox relay, webhook dispatcher, prevention's outbox consumer, export worker). */
export type Component = "gateway" | "realtime" | SubgraphName;

export interface StartOptions {
  config: Config;
  logger: Logger;
  /** Run one piece only (distributed deployment); default: everything in this process. */
  only?: Component;
  /** Apply pending migrations before serving (default: when running everything). */
  migrate?: boolean;
  /** Seed `config.seedUsers` users when the database is empty (default: when running everything). */
  seedIfEmpty?: boolean;
  /** Count SQL statements per subgraph (tests and benchmarks). */
  countStatements?: boolean;
  /** Use this database instead of the one configuration names. */
  database?: DatabaseTarget;
}

export interface RunningKamina {
  gateway: RunningGateway | undefined;
  subgraphs: Partial<Record<SubgraphName, RunningSubgraph>>;
  database: DatabaseTarget;
  /** The realtime workers, when this process runs them. */
  realtime: RunningRealtimeWorkers | undefined;
  /** Every piece in this process reaches its database (the metrics port's /readyz). */
  ready(): Promise<boolean>;
  stop(): Promise<void>;
}

/** Starts the subgraphs and the gateway: all of them in one process, or one of them. */
export async function startKamina(options: StartOptions): Promise<RunningKamina> {
  const { config, logger } = options;
  const everything = options.only === undefined;
  const subgraphNames: SubgraphName[] =
    options.only === undefined ? [...SUBGRAPH_NAMES] : options.only === "gateway" || options.only === "realtime" ? [] : [options.only];

  // Every piece needs the database, the gateway too: consents, tokens and keys live there.
  let embedded: PGlite | undefined;
  let database = options.database;
  if (!database) {
    if (config.databaseUrl) database = { kind: "postgres", url: config.databaseUrl, poolSize: config.dbPoolSize };
    else {
      embedded = await openEmbeddedDatabase(config.dataDir);
      database = { kind: "pglite", pglite: embedded };
      logger.info({ dataDir: config.dataDir }, "using the embedded PostgreSQL (PGlite); set DATABASE_URL to use a server");
      logger.warn(EMBEDDED_ACCESS_WARNING);
    }
  }

  const running: RunningKamina = {
    gateway: undefined,
    subgraphs: {},
    database,
    realtime: undefined,
    async ready() {
      const pieces = [running.gateway, running.realtime, ...Object.values(running.subgraphs)].filter((piece) => piece !== undefined);
      return (await Promise.all(pieces.map((piece) => piece.ready()))).every(Boolean);
    },
    async stop() {
      await running.realtime?.stop();
      await running.gateway?.stop();
      await Promise.all(Object.values(running.subgraphs).map((subgraph) => subgraph.stop()));
      await embedded?.close();
    },
  };

  try {
    if (options.migrate ?? everything) {
      const { applied } = await applyMigrations(database);
      if (applied.length) logger.info({ applied }, "applied migrations");
    }
    if ((options.seedIfEmpty ?? everything) && config.seedUsers > 0) {
      const { isEmpty, seedDatabase } = await import("../prisma/seed/index.ts");
      if (await isEmpty(database)) {
        logger.info({ users: config.seedUsers, seed: config.seed }, "empty database: seeding synthetic households");
        const report = await seedDatabase(database, {
          users: config.seedUsers,
          seed: config.seed,
          sandboxClientSecret: config.sandboxClientSecret,
          liveClientSecret: config.liveClientSecret,
          keyEncryptionKey: config.tokens.keyEncryptionKey,
        });
        logger.info({ elapsedMs: report.elapsedMs }, "seeded");
      }
    }
    for (const name of subgraphNames) {
      running.subgraphs[name] = await startSubgraph(SUBGRAPHS[name], {
        host: config.host,
        port: config.subgraphs[name].port,
        database,
        tokens: config.tokens,
        logger,
        settings: { reports: config.reports },
        limits: config.limits,
        countStatements: options.countStatements ?? false,
        enforceScopes: !config.unsafeDisableScopeEnforcement,
        acceptUnsigned: config.unsafeUnsignedSubgraphRequests,
      });
    }
    if (everything || options.only === "gateway") {
      const subgraphUrls = Object.fromEntries(
        SUBGRAPH_NAMES.map((name) => [name, running.subgraphs[name]?.url ?? config.subgraphs[name].url]),
      ) as Record<SubgraphName, string>;
      running.gateway = await startGateway({
        config,
        database,
        host: config.host,
        port: config.port,
        subgraphUrls,
        logger,
        importer: importExpenses,
      });
      if (config.realtime.workers) running.realtime = await startRealtimeWorkers(config, database, logger);
    }
    // Gateways with REALTIME_WORKERS=false leave the relay, the dispatcher and the prevention consumer to this process.
    if (options.only === "realtime") running.realtime = await startRealtimeWorkers(config, database, logger);
    return running;
  } catch (error) {
    await running.stop().catch(() => undefined);
    throw error;
  }
}
