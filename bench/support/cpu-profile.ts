// Summarises a V8 .cpuprofile: where the server child spent its (non-idle) CPU time.
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Hotspot {
  name: string;
  selfMs: number;
  /** Share of the non-idle time. */
  share: number;
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  functions: Hotspot[];
  /** Self time grouped by npm package, project folder or runtime bucket. */
  packages: Hotspot[];
}

function where(url: string): string {
  if (url === "") return "(native/V8)";
  if (url.startsWith("node:")) return "node: internals";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const project = /\/main\/([^/]+\/)/.exec(url);
  return project ? `project ${project[1]}` : url;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf("node_modules/");
  if (modules !== -1) return url.slice(modules + "node_modules/".length);
  const project = url.indexOf("/main/");
  return project !== -1 ? url.slice(project + "/main/".length) : url;
}

const IDLE = new Set(["(idle)"]);

export function summariseProfile(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const functionTime = new Map<string, number>();
  const packageTime = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (IDLE.has(functionName)) {
      idle += micros;
      return;
    }
    busy += micros;
    const special = functionName.startsWith("(");
    const key = special ? functionName : `${functionName || "(anonymous)"}  ${shortUrl(url)}:${lineNumber + 1}`;
    functionTime.set(key, (functionTime.get(key) ?? 0) + micros);
    const bucket = special ? functionName : where(url);
    packageTime.set(bucket, (packageTime.get(bucket) ?? 0) + micros);
  });
  const rank = (map: Map<string, number>, count: number): Hotspot[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, micros]) => ({ name, selfMs: micros / 1000, share: busy ? micros / busy : 0 }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, functions: rank(functionTime, top), packages: rank(packageTime, 15) };
}
