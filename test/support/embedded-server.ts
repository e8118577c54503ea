// `npm start`'s entry point in a child process, as a fresh machine runs it: no DATABASE_URL, the
// embedded PostgreSQL in a data directory of its own, every port picked by the system.
import { spawn, type ChildProcess } from "node:child_process";

const ROOT = new URL("../..", import.meta.url);

export interface EmbeddedServer {
  child: ChildProcess;
  /** The GraphQL URL the ready line printed. */
  url: string;
}

/** Runs `npm start`'s entry point as a fresh machine would: no DATABASE_URL, its own data dir. */
export function startEmbedded(dataDir: string, sandboxSecret: string, children: ChildProcess[]): Promise<EmbeddedServer> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: "0", SEED_USERS: "25", LOG_LEVEL: "warn", SANDBOX_CLIENT_SECRET: sandboxSecret };
  delete env.DATABASE_URL;
  for (const name of ["WELLNESS", "DEBTS", "EXPENSES", "COACH", "ALERTS"]) env[`SUBGRAPH_${name}_PORT`] = "0";
  const child = spawn(process.execPath, ["--import", "tsx", "runtime/start.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`no ready line within 120 s:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GraphQL at (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

