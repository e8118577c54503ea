// One piece of a distributed deployment (runtime/start.ts --only gateway|<subgraph>|realtime) in
// a process of its own, for tests that kill pieces the way a machine dies (SIGKILL).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { isHealthy } from "./server-child.ts";

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
const EXIT_GUARD = new URL("./exit-guard.ts", import.meta.url).href;

export interface PieceChild {
  name: string;
  pid: number;
  stderrTail(): string;
  exitStatus(): string;
  /** SIGKILL: no shutdown, connections cut as when the machine dies. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 15 s. */
  stop(): Promise<void>;
}

export interface PieceOptions {
  /** Label for messages, e.g. "gateway-a". */
  name: string;
  only: string;
  env: NodeJS.ProcessEnv;
  /** Answers 200 once the piece serves (its /healthz). */
  healthUrl: string;
  readyTimeoutMs?: number;
}

export async function startPiece(options: PieceOptions): Promise<PieceChild> {
  const child = spawn(process.execPath, ["--import", "tsx", "--import", EXIT_GUARD, "runtime/start.ts", "--only", options.only], {
    cwd: REPO_ROOT,
    env: options.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${options.name}`);
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-16_000);
  });
  let status = "running";
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      status = signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve();
    }),
  );
  const piece: PieceChild = {
    name: options.name,
    pid: child.pid,
    stderrTail: () => stderr,
    exitStatus: () => status,
    async kill() {
      if (status !== "running") return;
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (status !== "running") return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 300_000);
  while (!(await isHealthy(options.healthUrl))) {
    if (status !== "running" || Date.now() > deadline) {
      await piece.kill();
      throw new Error(`${options.name} did not become ready (${status}):\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return piece;
}

