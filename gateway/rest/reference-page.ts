// The browsable reference of the REST API, rendered on the server from the OpenAPI document: one
// self-contained HTML page (no script, no font, no CDN), so it works offline and behind any proxy.
import { createHash } from "node:crypto";

type JsonObject = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
code,pre{font:13px ui-monospace,monospace}pre{background:#f4f5f7;padding:.75rem;overflow:auto}
section{border-top:1px solid #dde;padding:.5rem 0}.meta{color:#556}table{border-collapse:collapse}
td,th{border:1px solid #dde;padding:.2rem .5rem;text-align:left}
.method{display:inline-block;min-width:4.5rem;font:bold 12px ui-monospace,monospace;color:#fff;background:#555;padding:.15rem .4rem;border-radius:3px}
.get{background:#2563eb}.post{background:#15803d}.delete{background:#b91c1c}
`;

/**
 * The page's Content-Security-Policy: its one inline style, by hash, and nothing else (no
 * script, no other host, no form, no frame).
 */
export const REFERENCE_PAGE_CSP = `default-src 'none'; style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

const METHODS = ["get", "post", "put", "patch", "delete"];

function escape(text: unknown): string {
  return String(text ?? "").replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function schemaBlock(schema: unknown): string {
  return schema === undefined ? "" : `<details><summary>schema</summary><pre>${escape(JSON.stringify(schema, null, 2))}</pre></details>`;
}

function operationHtml(path: string, method: string, operation: JsonObject): string {
  const parameters = (operation.parameters ?? []) as JsonObject[];
  const rows = parameters
    .map((parameter) => `<tr><td><code>${escape(parameter.name)}</code></td><td>${escape(parameter.in)}</td><td>${parameter.required ? "yes" : ""}</td><td>${escape(parameter.description ?? "")}</td></tr>`)
    .join("");
  const body = operation.requestBody?.content as JsonObject | undefined;
  const responses = Object.entries((operation.responses ?? {}) as JsonObject)
    .map(([status, response]) => {
      const content = (response as JsonObject).content as JsonObject | undefined;
      const [type, media] = Object.entries(content ?? {})[0] ?? [];
      return `<li><b>${escape(status)}</b> ${escape((response as JsonObject).description)}${type ? ` <code>${escape(type)}</code>` : ""}${schemaBlock((media as JsonObject | undefined)?.schema)}</li>`;
    })
    .join("");
  const security = ((operation.security ?? []) as JsonObject[]).flatMap((entry) => Object.keys(entry)).join(" or ") || "none";
  return `<section id="${escape(operation.operationId)}">
<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>
<p>${escape(operation.summary)}</p>${operation.description ? `<p>${escape(operation.description)}</p>` : ""}
<p class="meta">Credentials: ${escape(security)}</p>
${rows ? `<table><tr><th>parameter</th><th>in</th><th>required</th><th>meaning</th></tr>${rows}</table>` : ""}
${body ? `<p>Body: ${Object.keys(body).map((type) => `<code>${escape(type)}</code>`).join(" or ")}</p>${schemaBlock((Object.values(body)[0] as JsonObject).schema)}` : ""}
<ul>${responses}</ul>
</section>`;
}

export function referencePage(document: JsonObject): string {
  const byTag = new Map<string, string[]>();
  for (const [path, item] of Object.entries((document.paths ?? {}) as JsonObject)) {
    for (const method of METHODS) {
      const operation = (item as JsonObject)[method] as JsonObject | undefined;
      if (!operation) continue;
      const tag = ((operation.tags ?? ["other"]) as string[])[0]!;
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationHtml(path, method, operation)]);
    }
  }
  const contents = [...byTag.keys()].map((tag) => `<a href="#tag-${escape(tag)}">${escape(tag)}</a>`).join(" · ");
  const sections = [...byTag].map(([tag, operations]) => `<h2 id="tag-${escape(tag)}">${escape(tag)}</h2>${operations.join("\n")}`).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(document.info?.title)} ${escape(document.info?.version)}</title>
<style>${STYLE}</style></head><body>
<h1>${escape(document.info?.title)} <small>${escape(document.info?.version)}</small></h1>
<p>${escape(document.info?.description)}</p>
<p>Machine-readable: <a href="/v1/openapi.json"><code>/v1/openapi.json</code></a> (OpenAPI 3.1). Contract suite: <code>npm run contract -- --base URL</code>.</p>
<nav>${contents}</nav>
${sections}
</body></html>
`;
}
