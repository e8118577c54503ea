// The dashboard's bundle (web/dashboard -> web/dashboard/dist): built by `npm run dashboard:build`
// and by `npm start` when it is missing or older than its sources. The sources' digest is kept
// beside the bundle, so a checkout or a pull that changes them (whatever their mtimes) rebuilds it.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { DASHBOARD_DIST } from "../gateway/dashboard/dashboard-files.ts";

const SOURCE_ROOT = fileURLToPath(new URL("../web/dashboard/", import.meta.url));
const DIGEST_FILE = join(DASHBOARD_DIST, ".source-digest");

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.name !== "dist" && entry.name !== "node_modules")
    .flatMap((entry) => (entry.isDirectory() ? sourceFiles(join(directory, entry.name)) : [join(directory, entry.name)]))
    .sort();
}

/** The digest of the dashboard's sources and of the locked dependency versions; undefined when the sources are not here (a runtime image ships the bundle only). */
export function sourceDigest(): string | undefined {
  if (!existsSync(join(SOURCE_ROOT, "index.html"))) return undefined;
  const hash = createHash("sha256");
  for (const file of sourceFiles(SOURCE_ROOT)) hash.update(relative(SOURCE_ROOT, file)).update("\0").update(readFileSync(file));
  const lock = fileURLToPath(new URL("../package-lock.json", import.meta.url));
  if (existsSync(lock)) hash.update(readFileSync(lock));
  return hash.digest("hex");
}

export type DashboardState = "current" | "missing" | "stale" | "prebuilt";

export function dashboardState(): DashboardState {
  const digest = sourceDigest();
  const built = existsSync(join(DASHBOARD_DIST, "index.html"));
  if (digest === undefined) return built ? "prebuilt" : "missing";
  if (!built) return "missing";
  return existsSync(DIGEST_FILE) && readFileSync(DIGEST_FILE, "utf8").trim() === digest ? "current" : "stale";
}

/** Builds the bundle with Vite (a development dependency: loaded only when a build is needed). */
export async function buildDashboard(): Promise<void> {
  const digest = sourceDigest();
  if (digest === undefined) throw new Error("The dashboard's sources (web/dashboard) are not here");
  const { build } = await import("vite");
  await build({ configFile: join(SOURCE_ROOT, "vite.config.ts"), logLevel: "warn" });
  writeFileSync(DIGEST_FILE, `${digest}\n`);
}

/** Builds the bundle unless it is current; says why a build could not run instead of failing the start. */
export async function ensureDashboardBuilt(): Promise<{ built: boolean; problem?: string }> {
  const state = dashboardState();
  if (state === "current" || state === "prebuilt") return { built: false };
  if (state === "missing" && sourceDigest() === undefined) return { built: false, problem: "the dashboard is not built and its sources are not here" };
  try {
    await buildDashboard();
    return { built: true };
  } catch (error) {
    return { built: false, problem: `the dashboard could not be built (${error instanceof Error ? error.message : String(error)}); run npm run dashboard:build` };
  }
}
