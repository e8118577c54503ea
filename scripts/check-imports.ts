// `npm run check` runs this: every relative import must point down the layers (or within its
// own folder), and no module may reach itself through its imports (scripts/import-layers.ts).
// `--matrix` prints how many imports go from each layer to each other one.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { importGraph, layerProblems, matrix } from "./import-layers.ts";

const root = fileURLToPath(new URL("../", import.meta.url));

function sourceFiles(): string[] {
  const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.ts", "*.mts", "*.mjs"], { cwd: root, encoding: "utf8" });
  return listed.split("\n").filter((file) => file && !file.startsWith("node_modules/") && readable(file));
}

function readable(file: string): boolean {
  try {
    readFileSync(join(root, file));
    return true;
  } catch {
    return false; // deleted in the work tree, still in the index
  }
}

const graph = importGraph(sourceFiles(), (file) => readFileSync(join(root, file), "utf8"));
if (process.argv.includes("--matrix")) console.log(matrix(graph));
const problems = layerProblems(graph);
if (problems.length) {
  console.error(`${problems.length} import(s) break the layers (see README, Layout):\n${problems.map((p) => `  ${p}`).join("\n")}`);
  process.exit(1);
}
console.log(`imports follow the layers: ${graph.size} modules, no circles.`);
