// A NATS JetStream server of the test's own (Debian's nats-server) on a free port with its store
// in a temporary folder: the stream the gateways create (KAMINA_EVENTS) is then this test's alone,
// not shared with every other test using the machine's server at 4222.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "./server-child.ts";

const BINARY = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

export interface PrivateNats {
  url: string;
  stop(): Promise<void>;
}

/** Starts a private server, or answers the machine's (TEST_NATS_URL, default 4222) when there is no binary. */
export async function startPrivateNats(): Promise<PrivateNats> {
  if (!existsSync(BINARY)) return { url: process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222", stop: async () => undefined };
  const port = (await freePorts(1))[0]!;
  const store = mkdtempSync(join(tmpdir(), "kamina-nats-"));
  const child: ChildProcess = spawn(BINARY, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", store], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("the private nats-server did not start");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(store, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}
