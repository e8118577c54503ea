import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { committedSupergraph, composeSupergraph, SUPERGRAPH_PATH } from "../schema/composition.ts";

// `npm run compose` writes schema/supergraph.graphql; `--check` fails when it is stale.
const check = process.argv.includes("--check");
try {
  const composed = composeSupergraph();
  const path = fileURLToPath(SUPERGRAPH_PATH);
  if (check) {
    if (!existsSync(path) || committedSupergraph() !== composed) {
      console.error("schema/supergraph.graphql is stale: run `npm run compose` and commit it.");
      process.exit(1);
    }
    console.log("schema/supergraph.graphql is up to date.");
  } else {
    writeFileSync(path, composed);
    console.log(`Composed ${path}`);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
