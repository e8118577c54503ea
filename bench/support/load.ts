// Checks a scenario once, then drives it with autocannon (warm-up discarded, then measured).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import autocannon from "autocannon";
import { requestBody, type Scenario } from "./scenarios.ts";

export interface Preflight {
  /** The body the scenario answers with; also what every response under load is compared with. */
  body: string;
  /** Whether two answers were byte-identical, so under load every body can be compared exactly. */
  deterministic: boolean;
}

export interface Measurement {
  scenario: Scenario;
  requestsPerSecond: number;
  totalRequests: number;
  latency: { mean: number; p50: number; p90: number; p99: number; max: number };
  /**
   * Connection errors and timeouts, plus responses that were non-2xx or whose body did not match
   * the checked answer (a non-2xx body also mismatches, so the larger of the two counts).
   */
  errors: number;
  detail: { connectionErrors: number; timeouts: number; non2xx: number; mismatches: number };
  durationSeconds: number;
  /** CPU the server children used over the measured run, in cores (1.0 = one core busy all the time). */
  serverCpuCores: number | undefined;
  /** The same, per server child (gateway, subgraphs). */
  processCpuCores: Record<string, number | undefined>;
  /** CPU this process (autocannon) used over the measured run, in cores. */
  loadGeneratorCpuCores: number;
  /** CPU all PostgreSQL processes used over the measured run, in cores. */
  postgresCpuCores: number | undefined;
  /** CPU the whole machine used over the measured run, in cores. */
  machineCpuCores: number | undefined;
  /** Machine CPU not explained by the server, PostgreSQL or autocannon: other work on the machine. */
  otherCpuCores: number | undefined;
  bodyBytes: number;
}

function bodyOf(scenario: Scenario, index = 0): string {
  const { variables } = scenario;
  return requestBody(scenario.query, variables?.length ? variables[index % variables.length] : undefined, scenario.byHash);
}

async function post(scenario: Scenario): Promise<{ status: number; text: string }> {
  const body = bodyOf(scenario);
  const response = await fetch(scenario.url, {
    method: "POST",
    headers: { ...scenario.headers, ...scenario.sign?.(body), "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, text: await response.text() };
}

/** One request, checked: 200, no `errors`, the shape the query asks for. */
export async function preflight(scenario: Scenario): Promise<Preflight> {
  const first = await post(scenario);
  const context = `${scenario.name} (${scenario.url}) answered ${first.status}: ${first.text.slice(0, 500)}`;
  assert.equal(first.status, 200, context);
  const parsed = JSON.parse(first.text) as { data?: unknown; errors?: unknown };
  assert.equal(parsed.errors, undefined, context);
  try {
    scenario.checkData(parsed.data);
  } catch (error) {
    throw new Error(`${scenario.name}: unexpected answer: ${error instanceof Error ? error.message : String(error)}\n${first.text.slice(0, 500)}`);
  }
  const second = await post(scenario);
  // Rotating variables answer a different page each time: those bodies are checked for errors only.
  const rotating = (scenario.variables?.length ?? 0) > 1;
  return { body: first.text, deterministic: !rotating && second.status === 200 && second.text === first.text };
}

export function cpuTicksOf(pid: number | string): number | undefined {
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** CPU ticks of every PostgreSQL process, per pid (backends of other databases included). */
export function postgresTicks(): Map<string, number> {
  const ticks = new Map<string, number>();
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "postgres") continue;
      } catch {
        continue;
      }
      const value = cpuTicksOf(pid);
      if (value !== undefined) ticks.set(pid, value);
    }
  } catch {
    // no /proc
  }
  return ticks;
}

/** Ticks PostgreSQL processes used between two snapshots; backends that started in between count from zero. */
export function postgresDelta(before: Map<string, number>, after: Map<string, number>): number {
  let sum = 0;
  for (const [pid, value] of after) sum += value - (before.get(pid) ?? 0);
  return sum;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** The machine's CPU times so far from /proc/stat, in ticks (all CPUs), or undefined off Linux. */
function machineCpuTicks(): number[] | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    return line.trim().split(/\s+/).slice(1).map(Number);
  } catch {
    return undefined;
  }
}

/** The machine's I/O wait so far, in ticks (all CPUs). */
function ioWaitTicks(): number | undefined {
  return machineCpuTicks()?.[4];
}

/**
 * The machine's I/O wait every 100 ms while it runs, by wall-clock time: a disk that stalls a
 * flush stalls every commit (PostgreSQL waits for its WAL), which shows here and not as CPU.
 */
export class IoWaitSampler {
  private readonly samples: { at: number; ms: number }[] = [];
  private readonly timer: NodeJS.Timeout | undefined;
  private last = ioWaitTicks();

  constructor() {
    if (this.last === undefined) return;
    this.timer = setInterval(() => {
      const now = ioWaitTicks();
      if (now === undefined || this.last === undefined) return;
      this.samples.push({ at: Date.now(), ms: ((now - this.last) * 1000) / TICKS_PER_SECOND });
      this.last = now;
    }, 100);
    this.timer.unref();
  }

  /** Stops sampling; the samples taken, each the I/O wait (ms of CPU time) in the 100 ms before `at`. */
  stop(): readonly { at: number; ms: number }[] {
    if (this.timer) clearInterval(this.timer);
    return this.samples;
  }
}

export function machineBusyTicks(): number | undefined {
  const values = machineCpuTicks();
  if (!values) return undefined;
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  // user nice system idle iowait irq softirq steal (guest is already counted in user)
  const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
  return total - idle;
}

function allProcessTicks(): Map<string, number> {
  const ticks = new Map<string, number>();
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      const value = cpuTicksOf(pid);
      if (value !== undefined) ticks.set(pid, value);
    }
  } catch {
    // no /proc
  }
  return ticks;
}

function commandOf(pid: string): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    return (args || readFileSync(`/proc/${pid}/comm`, "utf8").trim()).slice(0, 140);
  } catch {
    return "(exited)";
  }
}

export interface MachineSample {
  /** Cores the whole machine kept busy. */
  busyCores: number;
  /** The processes that used the most CPU, busiest first. */
  top: { pid: string; cores: number; command: string }[];
}

/** How busy the machine is over `ms`, and who keeps it busy (undefined without /proc). */
export async function sampleMachine(ms: number): Promise<MachineSample | undefined> {
  const before = machineBusyTicks();
  const processesBefore = allProcessTicks();
  const started = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = machineBusyTicks();
  const processesAfter = allProcessTicks();
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  if (before === undefined || after === undefined) return undefined;
  const top = [...processesAfter]
    .map(([pid, value]) => ({ pid, cores: (value - (processesBefore.get(pid) ?? value)) / TICKS_PER_SECOND / elapsed }))
    .filter((entry) => entry.cores >= 0.05)
    .sort((a, b) => b.cores - a.cores)
    .slice(0, 4)
    .map((entry) => ({ ...entry, command: commandOf(entry.pid) }));
  return { busyCores: (after - before) / TICKS_PER_SECOND / elapsed, top };
}

function requestOptions(scenario: Scenario, connections: number, seconds: number): autocannon.Options {
  const body = bodyOf(scenario);
  const headers = { ...scenario.headers, "content-type": "application/json" };
  const { sign, variables } = scenario;
  // Rotating variables: each request takes the next; a signature is good for 30 s: each request gets its own.
  let sent = 0;
  const setupRequest = (request: autocannon.Request) => {
    const next = variables?.length ? bodyOf(scenario, sent++) : body;
    return { ...request, body: next, headers: sign ? { ...headers, ...sign(next) } : headers };
  };
  return {
    url: scenario.url,
    method: "POST",
    headers,
    body,
    ...(sign || variables?.length ? { requests: [{ setupRequest }] } : {}),
    connections: scenario.connections ?? connections,
    duration: seconds,
    timeout: 10,
  };
}

export async function measure(
  scenario: Scenario,
  checked: Preflight,
  options: { connections: number; duration: number; warmup: number; serverPids: Record<string, number> },
): Promise<Measurement> {
  if (options.warmup > 0) await autocannon(requestOptions(scenario, options.connections, options.warmup));

  // Every body is checked: exactly when the answer is deterministic, else for the absence of errors.
  const verifyBody = checked.deterministic
    ? (body: unknown) => String(body) === checked.body
    : (body: unknown) => {
        const text = String(body);
        return text.startsWith("{") && !text.includes('"errors":');
      };

  const pids = Object.entries(options.serverPids);
  const cpuBefore = pids.map(([, pid]) => cpuTicksOf(pid));
  const machineBefore = machineBusyTicks();
  const postgresBefore = postgresTicks();
  const ownBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result = await autocannon({ ...requestOptions(scenario, options.connections, options.duration), verifyBody });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const own = process.cpuUsage(ownBefore);
  const cpuAfter = pids.map(([, pid]) => cpuTicksOf(pid));
  const machineAfter = machineBusyTicks();
  const postgresAfter = postgresTicks();

  const cores = (ticks: number) => ticks / TICKS_PER_SECOND / elapsed;
  const processCpuCores = Object.fromEntries(
    pids.map(([name], index) => {
      const [before, after] = [cpuBefore[index], cpuAfter[index]];
      return [name, before !== undefined && after !== undefined ? cores(after - before) : undefined];
    }),
  );
  const perProcess = Object.values(processCpuCores);
  const serverCpuCores = perProcess.every((value) => value !== undefined) ? perProcess.reduce<number>((sum, value) => sum + value!, 0) : undefined;
  const machineCpuCores = machineBefore !== undefined && machineAfter !== undefined ? cores(machineAfter - machineBefore) : undefined;
  const postgresCpuCores = postgresAfter.size ? cores(postgresDelta(postgresBefore, postgresAfter)) : undefined;
  const loadGeneratorCpuCores = (own.user + own.system) / 1e6 / elapsed;
  const detail = { connectionErrors: result.errors - result.timeouts, timeouts: result.timeouts, non2xx: result.non2xx, mismatches: result.mismatches };
  return {
    scenario,
    requestsPerSecond: result.requests.average,
    totalRequests: result.requests.total,
    latency: { mean: result.latency.average, p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    errors: result.errors + Math.max(result.non2xx, result.mismatches),
    detail,
    durationSeconds: result.duration,
    serverCpuCores,
    processCpuCores,
    loadGeneratorCpuCores,
    postgresCpuCores,
    machineCpuCores,
    otherCpuCores:
      machineCpuCores !== undefined && serverCpuCores !== undefined && postgresCpuCores !== undefined
        ? Math.max(0, machineCpuCores - serverCpuCores - postgresCpuCores - loadGeneratorCpuCores)
        : undefined,
    bodyBytes: Buffer.byteLength(checked.body),
  };
}
