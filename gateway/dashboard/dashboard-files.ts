// The dashboard's built files (web/dashboard, built by Vite into dist/), served as files so its
// page policy allows scripts and styles from this origin only: no inline script, no other host.
import { readFile } from "node:fs/promises";
import { extname, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Where `npm run dashboard:build` writes the bundle. */
export const DASHBOARD_DIST = fileURLToPath(new URL("../../web/dashboard/dist/", import.meta.url));

/** Scripts, styles, images and fonts from this origin; fetches and the graphql-ws socket to it; nothing inline. */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** GraphiQL's page: the dashboard's policy, plus the fonts and icons its stylesheet embeds as data: URLs. */
export const GRAPHIQL_CSP = DASHBOARD_CSP.replace("img-src 'self'", "img-src 'self' data:").replace("font-src 'self'", "font-src 'self' data:");

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".map": "application/json",
};

export interface DashboardFile {
  body: Buffer;
  contentType: string;
  /** Vite names assets by their content hash: they never change under their name. */
  immutable: boolean;
}

/** The file a dashboard path names (`/dashboard` and `/dashboard/` are the page), or undefined. */
export async function dashboardFile(path: string, dist: string = DASHBOARD_DIST): Promise<DashboardFile | undefined> {
  const relative = path === "/dashboard" || path === "/dashboard/" ? "index.html" : path.slice("/dashboard/".length);
  const file = normalize(`${dist}${sep}${relative}`);
  const contentType = CONTENT_TYPES[extname(file)];
  if (!file.startsWith(normalize(dist)) || contentType === undefined) return undefined;
  try {
    return { body: await readFile(file), contentType, immutable: relative.startsWith("assets/") };
  } catch {
    return undefined;
  }
}
