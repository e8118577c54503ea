// What a browser sees at the gateway. GET / is our own page: one self-contained HTML document (no
// script, no font, no other host), so it says what this server is and where to go next even
// offline. GET /graphql in a browser is GraphiQL, bundled with the dashboard (gateway/dashboard/);
// only when that bundle is not built is it Apollo's Sandbox, which comes from Apollo's CDN, with its
// telemetry and cookies off, and with an offline fallback that points back here instead of
// Apollo's "Welcome to Apollo Server".
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import type { RequestInfo, RouteHandler } from "../platform/http/graphql-http-server.ts";

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
code,pre{font:13px ui-monospace,monospace}pre{background:#f4f5f7;padding:.75rem;overflow:auto}
li{margin:.25rem 0}.note{color:#556}
`;

/** The page's own policy: its one inline style, by hash; no script, no other host, no form, no frame. */
export const LANDING_PAGE_CSP = `default-src 'none'; style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

const LOCAL_ORIGIN = "http://localhost:4000";

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The origin the browser used, for the copy-paste snippets; a Host header that is not a plain host[:port] is not echoed. */
function originOf(request: IncomingMessage): string {
  const host = request.headers.host;
  return typeof host === "string" && /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/.test(host) ? `http://${host}` : LOCAL_ORIGIN;
}

export function landingPage(origin: string): string {
  const base = escape(origin);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>kamina-graph gateway</title><style>${STYLE}</style></head>
<body>
<h1>kamina-graph gateway</h1>
<p>One GraphQL API (and its REST mirror) over a person's financial-wellness data: wellness
diagnosis, debts, expenses and income, savings goals, coach signals and prevention alerts, read
only under that person's explicit, versioned, revocable consent, enforced field by field.</p>
<h2>Where to go</h2>
<ul>
<li><a href="/v1/docs">/v1/docs</a>: the REST reference, every route with its parameters and schemas (works offline)</li>
<li><a href="/v1/openapi.json">/v1/openapi.json</a>: the same as an OpenAPI 3.1 document</li>
<li><a href="/dashboard">/dashboard</a>: the reference dashboard (a person's wellness, live alerts, the CRM view, the consent), signed in as the sandbox client (works offline)</li>
<li><a href="/graphql">/graphql</a>: POST GraphQL here; opened in a browser it is GraphiQL (bundled, works offline), its
<code>Authorization: Bearer &lt;access_token&gt;</code> header filled in by the sandbox sign-in on a laptop</li>
<li><a href="/healthz">/healthz</a>: whether the gateway takes traffic</li>
<li><code>README.md</code> at the root of the repository: the consent flow, copy-paste, and every setting
(including <code>CORS_ORIGINS</code> for browser apps); <code>docs/</code> beside it holds the rest</li>
</ul>
<h2>First call, with curl</h2>
<p>A token comes from a consent (the sandbox client <code>of_lab_demo</code>'s are authorised at once; <code>npm start</code>
prints its secret):</p>
<pre>BASE=${base} CLIENT=of_lab_demo:kamina-sandbox-secret   # the local default secret
curl -s -u $CLIENT $BASE/v1/auth/consent -H 'content-type: application/json' \\
  -d '{"client_id":"of_lab_demo","user_external_id":"USR_42891","scopes":["wellness.read","debts.read"],"country":"MX","consent_text_version":"2026-05-01"}'
TOKEN=...   # the answer's access_token
curl -s $BASE/graphql -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
  -d '{"query":"{ me { id wellness { score band } debts { issuer balance currency } } }"}'</pre>
<p class="note">Tokens are bearer credentials for one person's data: a browser app calls the gateway only from an
origin in <code>CORS_ORIGINS</code>, with short-lived access tokens its own back end obtained; client secrets and
refresh tokens stay on that back end (README, "Calling the gateway from a browser app").</p>
</body></html>
`;
}

/** GET / answers the landing page; everything else goes on to `next`. */
export function withLandingPage(next: RouteHandler): RouteHandler {
  return async (request: IncomingMessage, response: ServerResponse, info: RequestInfo) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path !== "/" || (request.method !== "GET" && request.method !== "HEAD")) return next(request, response, info);
    const body = landingPage(originOf(request));
    response.setHeader("content-security-policy", LANDING_PAGE_CSP);
    response.setHeader("cache-control", "no-cache");
    response.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(body) });
    response.end(request.method === "HEAD" ? undefined : body);
    return true;
  };
}

const APOLLO_FALLBACK = /<h1>Welcome to Apollo Server<\/h1>\s*<p>Apollo Sandbox cannot be loaded; it appears that you might be offline\.<\/p>/;
const OUR_FALLBACK = `<h1>kamina-graph: Apollo Sandbox did not load</h1>
  <p>Apollo Sandbox comes from Apollo's CDN, which this browser cannot reach. Without it: the REST
  reference at <a href="/v1/docs">/v1/docs</a> (works offline), <a href="/v1/openapi.json">/v1/openapi.json</a>,
  and <a href="/">the gateway's page</a> with a curl example; the consent flow is in the repository's README.md.</p>`;

/**
 * Apollo Sandbox at GET /graphql in a browser: telemetry off, cookies not sent (tokens go in the
 * Authorization header), and an offline fallback that links to what works without the CDN.
 */
export function sandboxLandingPage<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  const apollo = ApolloServerPluginLandingPageLocalDefault({ embed: { runTelemetry: false }, includeCookies: false, footer: false }) as ApolloServerPlugin<TContext>;
  return {
    async serverWillStart(service) {
      const listener = await apollo.serverWillStart?.(service);
      const render = listener?.renderLandingPage;
      if (!render) throw new Error("Apollo's landing page plugin rendered no page");
      return {
        async renderLandingPage() {
          const page = await render();
          return {
            async html() {
              const html = typeof page.html === "string" ? page.html : await page.html();
              if (!APOLLO_FALLBACK.test(html)) throw new Error("Apollo's Sandbox page changed: its offline fallback was not found");
              return html.replace(APOLLO_FALLBACK, OUR_FALLBACK);
            },
          };
        },
      };
    },
  };
}
