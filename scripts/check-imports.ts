// `npm run check` runs this: every relative import must point down the layers (or within its
// own folder), and no module may reach itself through its imports. `--matrix` prints how many
// imports go from each layer to each other one.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/**
 * The layers, bottom first. A folder may import from its own folder and from any folder of a
 * lower rank; `alsoImports` names the few folders of its own rank it may use too.
 */
const LAYERS: { rank: number; folder: string; alsoImports?: string[]; what: string }[] = [
  { rank: 0, folder: "generated", what: "the generated Prisma client" },
  { rank: 1, folder: "platform", what: "database, config, errors, logging, HTTP server, token verification" },
  { rank: 2, folder: "domain", what: "pure household, diagnosis, prevention and alert-event rules: no I/O, no GraphQL" },
  { rank: 3, folder: "realtime", what: "event feed, outbox relay, webhook delivery" },
  { rank: 3, folder: "subgraphs", what: "the five subgraphs and what they share" },
  { rank: 3, folder: "gateway", alsoImports: ["realtime"], what: "the federated gateway, consent and tokens, REST, subscriptions" },
  { rank: 3, folder: "prisma", what: "schema, migrations and the synthetic seed" },
  { rank: 4, folder: "schema", what: "the composed supergraph and its composition" },
  { rank: 4, folder: "runtime", what: "the launcher and composition root" },
  { rank: 5, folder: "testkit", what: "helpers shared by tests and benchmarks" },
  { rank: 6, folder: "scripts", what: "command-line entry points" },
  { rank: 6, folder: "test", what: "tests" },
  { rank: 6, folder: "bench", alsoImports: ["scripts"], what: "benchmarks" },
];

/** Inside `subgraphs/`, each subgraph uses only `subgraphs/shared`; the registry (index.ts) sees them all. */
function subgraphRule(from: string, to: string): string | undefined {
  const [, fromName] = from.split("/");
  const [, toName] = to.split("/");
  if (!fromName || !toName || fromName === toName || fromName === "index.ts" || toName === "shared") return undefined;
  return `a subgraph imports only its own folder and subgraphs/shared`;
}

const root = fileURLToPath(new URL("../", import.meta.url));
const layerOf = (file: string) => LAYERS.find((layer) => file.split("/")[0] === layer.folder);

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

/** Relative imports of each file (static, dynamic and re-exports, type-only ones too), as repository paths. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), "utf8"), true, true);
    const targets = importedFiles
      .map((imported) => imported.fileName)
      .filter((name) => name.startsWith("."))
      .map((name) => normalize(join(dirname(file), name)));
    graph.set(file, targets);
  }
  return graph;
}

function violations(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph) {
    const fromLayer = layerOf(from);
    for (const to of targets) {
      const toLayer = layerOf(to);
      if (!fromLayer || !toLayer) {
        if (fromLayer) found.push(`${from} -> ${to}: outside every layer`);
        continue;
      }
      if (fromLayer === toLayer) {
        const why = fromLayer.folder === "subgraphs" ? subgraphRule(from, to) : undefined;
        if (why) found.push(`${from} -> ${to}: ${why}`);
        continue;
      }
      if (toLayer.rank < fromLayer.rank || fromLayer.alsoImports?.includes(toLayer.folder)) continue;
      found.push(`${from} -> ${to}: ${fromLayer.folder}/ (rank ${fromLayer.rank}) may not import ${toLayer.folder}/ (rank ${toLayer.rank})`);
    }
  }
  return found;
}

/** Strongly connected components of more than one module (Tarjan), or a module importing itself. */
function circles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)?.includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

function matrix(graph: Map<string, string[]>): string {
  const counts = new Map<string, number>();
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const a = layerOf(from)?.folder ?? "(root)";
      const b = layerOf(to)?.folder ?? "(root)";
      if (a !== b) counts.set(`${a} -> ${b}`, (counts.get(`${a} -> ${b}`) ?? 0) + 1);
    }
  }
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([edge, count]) => `${String(count).padStart(4)}  ${edge}`).join("\n");
}

const graph = importGraph(sourceFiles());
if (process.argv.includes("--matrix")) console.log(matrix(graph));
const problems = [...violations(graph), ...circles(graph).map((component) => `import circle: ${component.join(" <-> ")}`)];
if (problems.length) {
  console.error(`${problems.length} import(s) break the layers (see README, Layout):\n${problems.map((p) => `  ${p}`).join("\n")}`);
  process.exit(1);
}
console.log(`imports follow the layers: ${graph.size} modules, no circles.`);
