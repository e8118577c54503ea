/** @jsxImportSource react */
// GraphiQL at GET /graphql in a browser, bundled (no CDN). It signs in through the dashboard's
// sandbox sign-in and fills the Authorization header with the consent token; GraphiQL's storage
// is kept in memory, so the header never reaches localStorage.
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/graphiql.css";
import "./page.css";
import { createClient } from "graphql-ws";
import { createRoot } from "react-dom/client";
import { DEFAULT_SCOPES, signIn } from "../session.ts";

const FIRST_QUERY = `# Signed in as the sandbox client, for the person below, with the dashboard's default scopes.
query Me {
  me {
    id
    country
    wellness { score band trend30d }
    debts { issuer apr dueDate }
  }
}
`;

/** GraphiQL's persistence (tabs, headers, history) for this page's life only. */
class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

async function start(): Promise<void> {
  let authorization = "";
  let notice = "";
  try {
    const session = await signIn("USR_42891", DEFAULT_SCOPES);
    authorization = `Bearer ${session.personToken}`;
  } catch (error) {
    notice = `# The sandbox sign-in failed (${(error as Error).message}): put a token in Headers.\n`;
  }
  const wsClient = createClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    connectionParams: () => ({ authorization }),
    lazy: true,
  });
  const fetcher = createGraphiQLFetcher({ url: "/graphql", wsClient });
  createRoot(document.getElementById("graphiql")!).render(
    <GraphiQL
      fetcher={fetcher}
      storage={new MemoryStorage()}
      defaultQuery={notice + FIRST_QUERY}
      headers={authorization ? JSON.stringify({ Authorization: authorization }, null, 2) : ""}
      defaultEditorToolsVisibility="headers"
      shouldPersistHeaders={false}
    />,
  );
}

void start();
