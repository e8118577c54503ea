// The distributed deployment of issue 20 as separate processes: a private PostgreSQL and NATS
// JetStream, five subgraphs, two gateways (REALTIME_WORKERS=false) and two realtime workers,
// with a TCP balancer in front of the gateways as partners would reach them.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { SUBGRAPH_NAMES } from "../../platform/config/config.ts";
import { applyMigrations } from "../../platform/database/schema-engine.ts";
import { seedDatabase } from "../../prisma/seed/index.ts";
import { startPiece, type PieceChild } from "../../testkit/piece-child.ts";
import { startPrivateNats, type PrivateNats } from "../../testkit/private-nats.ts";
import { startPrivatePostgres, type PrivatePostgres } from "../../testkit/private-postgres.ts";
import { freePorts } from "../../testkit/server-child.ts";
import { startTcpBalancer, type TcpBalancer } from "../../testkit/tcp-balancer.ts";
import { TEST_SANDBOX_SECRET } from "../../testkit/tokens.ts";

export interface Topology {
  postgres: PrivatePostgres;
  nats: PrivateNats;
  databaseUrl: string;
  subgraphs: PieceChild[];
  gateways: PieceChild[];
  workers: PieceChild[];
  /** Each gateway's origin (http://127.0.0.1:port), in the order of `gateways`. */
  gatewayOrigins: string[];
  /** Each gateway's and worker's metrics origin. */
  gatewayMetrics: string[];
  workerMetrics: string[];
  balancer: TcpBalancer;
  /** Starts the gateway or worker at this index again (as an orchestrator would). */
  restart(kind: "gateway" | "worker", index: number): Promise<void>;
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";

export async function startTopology(options: { users: number; env?: Record<string, string> }): Promise<Topology> {
  const postgres = await startPrivatePostgres();
  let nats: PrivateNats | undefined;
  const started: PieceChild[] = [];
  try {
    nats = await startPrivateNats();
    const admin = new pg.Client({ connectionString: postgres.url() });
    await admin.connect();
    await admin.query("CREATE DATABASE kamina");
    await admin.end();
    const databaseUrl = postgres.url("kamina");
    const target = { kind: "postgres" as const, url: databaseUrl, poolSize: 2 };
    await applyMigrations(target);
    await seedDatabase(target, { users: options.users, seed: 7, sandboxClientSecret: TEST_SANDBOX_SECRET });

    const ports = await freePorts(SUBGRAPH_NAMES.length + 2 * 2 + 2);
    const subgraphPorts = ports.slice(0, SUBGRAPH_NAMES.length);
    const gatewayPorts = ports.slice(SUBGRAPH_NAMES.length, SUBGRAPH_NAMES.length + 2);
    const gatewayMetricsPorts = ports.slice(SUBGRAPH_NAMES.length + 2, SUBGRAPH_NAMES.length + 4);
    const workerMetricsPorts = ports.slice(SUBGRAPH_NAMES.length + 4);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(env)) if (/^(SUBGRAPH_|METRICS_|OTEL_|NATS_URL|DATA_DIR|NODE_ENV|REDIS_URL)/.test(key)) delete env[key];
    Object.assign(env, {
      HOST,
      DATABASE_URL: databaseUrl,
      NATS_URL: nats.url,
      DB_POOL_SIZE: "3",
      SEED_USERS: "0",
      KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64url"),
      APP_API_KEY: randomBytes(32).toString("base64url"),
      SANDBOX_CLIENT_SECRET: TEST_SANDBOX_SECRET,
      LOG_LEVEL: "warn",
      REALTIME_WORKERS: "false",
      ...options.env,
    });
    SUBGRAPH_NAMES.forEach((name, index) => {
      env[`SUBGRAPH_${name.toUpperCase()}_PORT`] = String(subgraphPorts[index]);
      env[`SUBGRAPH_${name.toUpperCase()}_URL`] = `http://${HOST}:${subgraphPorts[index]}/graphql`;
    });
    const subgraphs = await Promise.all(
      SUBGRAPH_NAMES.map((name, index) => startPiece({ name, only: name, env, healthUrl: `http://${HOST}:${subgraphPorts[index]}/healthz` }).then((piece) => (started.push(piece), piece))),
    );
    const gatewayPiece = (index: number) =>
      startPiece({ name: `gateway-${index}`, only: "gateway", env: { ...env, PORT: String(gatewayPorts[index]), METRICS_PORT: String(gatewayMetricsPorts[index]) }, healthUrl: `http://${HOST}:${gatewayPorts[index]}/healthz` });
    const workerPiece = (index: number) =>
      startPiece({ name: `worker-${index}`, only: "realtime", env: { ...env, METRICS_PORT: String(workerMetricsPorts[index]) }, healthUrl: `http://${HOST}:${workerMetricsPorts[index]}/healthz` });
    const [gateways, workers] = await Promise.all([Promise.all([0, 1].map(gatewayPiece)), Promise.all([0, 1].map(workerPiece))]);
    started.push(...gateways, ...workers);
    const balancer = await startTcpBalancer(gatewayPorts);
    const topology: Topology = {
      postgres,
      nats,
      databaseUrl,
      subgraphs,
      gateways,
      workers,
      gatewayOrigins: gatewayPorts.map((port) => `http://${HOST}:${port}`),
      gatewayMetrics: gatewayMetricsPorts.map((port) => `http://${HOST}:${port}`),
      workerMetrics: workerMetricsPorts.map((port) => `http://${HOST}:${port}`),
      balancer,
      async restart(kind, index) {
        if (kind === "gateway") topology.gateways[index] = await gatewayPiece(index);
        else topology.workers[index] = await workerPiece(index);
      },
      async stop() {
        await balancer.close();
        await Promise.all([...topology.gateways, ...topology.workers].map((piece) => piece.stop()));
        await Promise.all(topology.subgraphs.map((piece) => piece.stop()));
        await nats?.stop();
        postgres.destroy();
      },
    };
    return topology;
  } catch (error) {
    await Promise.all(started.map((piece) => piece.kill()));
    await nats?.stop();
    postgres.destroy();
    throw error;
  }
}

/** A sample of a Prometheus text exposition (0 when absent). */
export async function scrapeSample(origin: string, series: string): Promise<number> {
  const text = await fetch(`${origin}/metrics`).then((response) => response.text());
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
