// `npm run docs:contract` writes docs/openapi.json and docs/kamina-graph.postman_collection.json
// from the document a gateway serves (started here on a throwaway embedded database, no users);
// `--check` fails when either committed file is stale.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, SUBGRAPH_NAMES } from "../platform/config/config.ts";
import { createLogger } from "../platform/logger.ts";
import { startKamina } from "../runtime/app.ts";
import { writeOrCheckDoc } from "./generated-doc.ts";
import { postmanCollection } from "./postman-collection.ts";

const docs = (file: string) => fileURLToPath(new URL(`../docs/${file}`, import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "kamina-contract-docs-"));
try {
  const ports = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [`SUBGRAPH_${name.toUpperCase()}_PORT`, "0"]));
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", DATA_DIR: dataDir, SEED_USERS: "0", REALTIME_WORKERS: "false", ...ports });
  const kamina = await startKamina({ config, logger: createLogger("silent") });
  try {
    const document = (await (await fetch(`${kamina.gateway!.origin}/v1/openapi.json`)).json()) as Record<string, unknown>;
    writeOrCheckDoc(docs("openapi.json"), `${JSON.stringify(document, null, 2)}\n`, "npm run docs:contract");
    writeOrCheckDoc(docs("kamina-graph.postman_collection.json"), `${JSON.stringify(postmanCollection(document), null, 2)}\n`, "npm run docs:contract");
  } finally {
    await kamina.stop();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
