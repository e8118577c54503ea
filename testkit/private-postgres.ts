// A PostgreSQL cluster of the test's own, made with Debian's binaries in a temporary folder on a
// free port, for tests that stop and restart the database: the machine's shared server is never
// touched (other engineers and CI use it).
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { userInfo } from "node:os";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "./server-child.ts";

const BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PrivatePostgres {
  port: number;
  /** A connection string to `database` on this cluster. */
  url(database?: string): string;
  /** Stops the server at once (`immediate`: no checkpoint, as a crash would) or cleanly (`fast`). */
  stop(mode?: "immediate" | "fast"): void;
  start(): void;
  /** Stops it and deletes its files. */
  destroy(): void;
}

/**
 * initdb refuses to run as root, so as root the cluster belongs to the `postgres` user. fsync is
 * off (a test's data need not survive the machine); an `immediate` stop still recovers from WAL.
 * synchronous_commit stays on: off, a commit is acknowledged before its WAL leaves the server's
 * memory, and an `immediate` stop (a crash) loses it (the topology test lost 2 of 1,000 alerts
 * it had been told were committed).
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = (await freePorts(1))[0]!;
  const folder = mkdtempSync(join(tmpdir(), "kamina-pg-"));
  const data = join(folder, "data");
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const owner = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const group = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    chownSync(folder, Number(owner.stdout.trim()), Number(group.stdout.trim()));
  }
  const run = (binary: string, args: string[]) => {
    const command = asRoot ? ["runuser", ["-u", "postgres", "--", join(BIN, binary), ...args]] as const : [join(BIN, binary), args] as const;
    execFileSync(command[0], [...command[1]], { stdio: ["ignore", "pipe", "pipe"], cwd: folder });
  };
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${folder} -c fsync=off -c full_page_writes=off -c max_connections=300`;
  const start = () => run("pg_ctl", ["-D", data, "-o", options, "-l", join(folder, "server.log"), "-w", "-t", "60", "start"]);
  const stop = (mode: "immediate" | "fast" = "fast") => run("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "60", "stop"]);
  start();
  let running = true;
  return {
    port,
    url: (database = "postgres") => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    stop(mode) {
      stop(mode);
      running = false;
    },
    start() {
      start();
      running = true;
    },
    destroy() {
      if (running) {
        try {
          stop("immediate");
        } catch {
          // already down
        }
      }
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
