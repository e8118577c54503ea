// Runs kamina-graph (runtime/start.ts: five subgraphs and the gateway) in a child process, so
// the load generator never shares the server's event loop.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { loadConfig, SUBGRAPH_NAMES, type Config, type SubgraphName } from "../platform/config/config.ts";

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
const EXIT_GUARD = new URL("./exit-guard.ts", import.meta.url).href;
/** What exit-guard.ts writes when it had to end the child. */
export const EXIT_GUARD_MARKER = "[exit-guard]";
const HOST = "127.0.0.1";

export interface ServerChildOptions {
  databaseUrl: string;
  /** Extra flags for node, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** The sandbox client's secret the database was seeded with. */
  sandboxClientSecret: string;
  /** NODE_ENV for the child; undefined leaves it unset. */
  nodeEnv?: string | undefined;
  /** Extra environment for the child (e.g. UNSAFE_DISABLE_SCOPE_ENFORCEMENT for bench/enforcement.ts). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** The script the child runs, relative to the repository root; default runtime/start.ts. */
  entry?: string;
  /**
   * Run the gateway alone (`--only gateway`, no realtime workers) over subgraphs another child
   * serves: their URLs, and the key-encryption key they verify the gateway's signature with.
   */
  gatewayOver?: { subgraphUrls: Record<SubgraphName, string>; keyEncryptionKey: string };
}

export interface ServerChild {
  pid: number;
  /** The configuration the child runs with (its environment, parsed the same way). */
  config: Config;
  gatewayUrl: string;
  subgraphUrls: Record<SubgraphName, string>;
  /** What the child wrote to stderr (warnings and errors at LOG_LEVEL=warn), bounded. */
  stderrTail(): string;
  /** Resident set size and its peak, from /proc/<pid>/status, in MiB; undefined once exited. */
  memory(): { rssMiB: number; peakRssMiB: number } | undefined;
  /** "running", "exit code N" or "killed by SIGNAL". */
  exitStatus(): string;
  /**
   * SIGTERM (graceful: the launcher closes servers and pools); exit-guard.ts ends the child if
   * that has not within 5 s, SIGKILL as a last resort.
   */
  stop(): Promise<void>;
}

/** Asks the kernel for `count` distinct free loopback ports. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import("node:net").Server>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, HOST, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

export async function startServerChild(options: ServerChildOptions): Promise<ServerChild> {
  const over = options.gatewayOver;
  const [gatewayPort, ...subgraphPorts] = await freePorts(over ? 1 : 1 + SUBGRAPH_NAMES.length);
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Nothing from the caller's environment may point the child elsewhere.
  for (const key of Object.keys(env)) if (/^SUBGRAPH_.*_(PORT|URL)$/.test(key)) delete env[key];
  delete env.DATA_DIR;
  delete env.NODE_ENV;
  if (options.nodeEnv !== undefined) env.NODE_ENV = options.nodeEnv;
  Object.assign(env, {
    HOST,
    PORT: String(gatewayPort),
    DATABASE_URL: options.databaseUrl,
    SEED_USERS: "0",
    SANDBOX_CLIENT_SECRET: options.sandboxClientSecret,
    // A fresh key-encryption key per run: the signing keys it protects die with the database.
    KEY_ENCRYPTION_KEY: over?.keyEncryptionKey ?? randomBytes(32).toString("base64url"),
    // No public default secret, so the child starts with NODE_ENV=production too.
    APP_API_KEY: randomBytes(32).toString("base64url"),
    LIVE_CLIENT_SECRET: randomBytes(32).toString("base64url"),
    LOG_LEVEL: "warn",
    // The daily batch would run at start in every test after its hour; tests that want it say so.
    DAILY_BATCH_HOUR: "off",
    ...options.env,
  });
  const subgraphUrls = {} as Record<SubgraphName, string>;
  SUBGRAPH_NAMES.forEach((name, index) => {
    if (over) {
      env[`SUBGRAPH_${name.toUpperCase()}_URL`] = subgraphUrls[name] = over.subgraphUrls[name];
      return;
    }
    const port = subgraphPorts[index]!;
    env[`SUBGRAPH_${name.toUpperCase()}_PORT`] = String(port);
    subgraphUrls[name] = `http://${HOST}:${port}/graphql`;
  });
  // The subgraphs' child runs the realtime workers already.
  if (over) env.REALTIME_WORKERS = "false";
  const config = loadConfig(env);

  const child: ChildProcess = spawn(process.execPath, [...(options.nodeFlags ?? []), "--import", "tsx", "--import", EXIT_GUARD, options.entry ?? "runtime/start.ts", ...(over ? ["--only", "gateway"] : [])], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error("could not spawn the server child");
  const pid = child.pid;

  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    stdout = (stdout + chunk).slice(-8_000);
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-16_000);
  });
  let hasExited = false;
  let exitStatus = "running";
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      hasExited = true;
      exitStatus = signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve();
    }),
  );

  const stop = async (): Promise<void> => {
    if (hasExited) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(killer);
  };

  const gatewayUrl = `http://${HOST}:${gatewayPort}/graphql`;
  try {
    await waitUntilReady();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    pid,
    config,
    gatewayUrl,
    subgraphUrls,
    stderrTail: () => stderr,
    exitStatus: () => exitStatus,
    memory: () => (hasExited ? undefined : readMemory(pid)),
    stop,
  };

  async function waitUntilReady(): Promise<void> {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
    while (Date.now() < deadline) {
      if (hasExited) throw new Error(`the server child exited before it was ready:\n${stderr || stdout}`);
      if (stdout.includes("GraphQL at ")) {
        const healthy = await Promise.all([gatewayUrl, ...Object.values(subgraphUrls)].map((url) => isHealthy(url.replace(/\/graphql$/, "/healthz"))));
        if (healthy.every(Boolean)) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the server child was not ready in time:\n${stderr || stdout}`);
  }
}

/** The URL answers 2xx within 2 s (a health probe of a child being started). */
export async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

function readMemory(pid: number): { rssMiB: number; peakRssMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssMiB: kib("VmRSS") / 1024, peakRssMiB: kib("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}
