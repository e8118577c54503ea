// The layer rule every import follows, and what breaks it: an import up the layers, one across
// two folders of the same rank that may not use each other, a package the pure domain may not
// use, or a circle.
import { dirname, join, normalize } from "node:path";
import ts from "typescript";

interface Layer {
  rank: number;
  folder: string;
  /** Folders of the same rank this one may use too. */
  alsoImports?: string[];
  /** When set, the only packages (bare specifiers) the folder may import. */
  packages?: string[];
}

/**
 * The layers, bottom first. A folder may import from its own folder and from any folder of a
 * lower rank, and from the same-rank folders its `alsoImports` names.
 */
export const LAYERS: readonly Layer[] = [
  { rank: 0, folder: "generated" }, // the generated Prisma client
  { rank: 1, folder: "platform" },
  // What partners copy into their own projects: none of our modules (the generated types at most),
  // and only the SDK's own runtime dependencies (sdk/typescript/package.json): graphql-ws, jose
  // for DPoP proofs, and the typed-document-node types the generated documents use.
  // The dashboard's browser code (and its Vite config): none of our server modules, only its front-end packages.
  { rank: 1, folder: "web", packages: ["preact", "preact/hooks", "@urql/preact", "@urql/core", "graphql-ws", "uplot", "uplot/dist/uPlot.min.css", "vite", "node:url"] },
  { rank: 1, folder: "sdk", packages: ["graphql-ws", "jose", "@graphql-typed-document-node/core"] },
  // No I/O and no GraphQL: zod validates the rules file, and nothing else comes from outside.
  { rank: 2, folder: "domain", packages: ["zod"] },
  { rank: 3, folder: "realtime" },
  { rank: 3, folder: "subgraphs" },
  { rank: 3, folder: "gateway", alsoImports: ["realtime"] },
  { rank: 3, folder: "prisma" },
  { rank: 4, folder: "schema" },
  { rank: 4, folder: "runtime" },
  { rank: 5, folder: "testkit" },
  { rank: 6, folder: "scripts" },
  { rank: 6, folder: "test", alsoImports: ["scripts"] },
  { rank: 6, folder: "bench", alsoImports: ["scripts"] },
];

/** What one module imports: other modules (repository paths) and packages. */
export interface Imports {
  modules: string[];
  packages: string[];
}

export type ImportGraph = Map<string, Imports>;

const layerOf = (file: string): Layer | undefined => LAYERS.find((layer) => file.split("/")[0] === layer.folder);

/** Static, dynamic and re-exporting imports of each file, type-only ones too. */
export function importGraph(files: readonly string[], read: (file: string) => string): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const imports: Imports = { modules: [], packages: [] };
    for (const { fileName } of ts.preProcessFile(read(file), true, true).importedFiles) {
      if (fileName.startsWith(".")) imports.modules.push(normalize(join(dirname(file), fileName)));
      else imports.packages.push(fileName);
    }
    graph.set(file, imports);
  }
  return graph;
}

/** Inside `subgraphs/`, each subgraph uses only itself and `subgraphs/shared`; the registry (index.ts) sees them all. */
function crossesSubgraphs(from: string, to: string): boolean {
  const [, fromName] = from.split("/");
  const [, toName] = to.split("/");
  return !!fromName && !!toName && fromName !== toName && fromName !== "index.ts" && toName !== "shared";
}

function moduleProblem(from: string, to: string): string | undefined {
  const fromLayer = layerOf(from);
  const toLayer = layerOf(to);
  if (!fromLayer) return from.includes("/") ? `${from} is in no layer: add its folder to LAYERS` : undefined;
  if (!toLayer) return `${from} -> ${to}: the target is in no layer`;
  if (fromLayer === toLayer) {
    return fromLayer.folder === "subgraphs" && crossesSubgraphs(from, to) ? `${from} -> ${to}: a subgraph imports only its own folder and subgraphs/shared` : undefined;
  }
  if (toLayer.rank < fromLayer.rank || fromLayer.alsoImports?.includes(toLayer.folder)) return undefined;
  return `${from} -> ${to}: ${fromLayer.folder}/ (rank ${fromLayer.rank}) may not import ${toLayer.folder}/ (rank ${toLayer.rank})`;
}

export function violations(graph: ImportGraph): string[] {
  const found = new Set<string>();
  for (const [from, { modules, packages }] of graph) {
    for (const to of modules) {
      const problem = moduleProblem(from, to);
      if (problem) found.add(problem);
    }
    const allowed = layerOf(from)?.packages;
    for (const name of allowed ? packages : []) {
      if (!allowed?.includes(name)) found.add(`${from} -> ${name}: ${layerOf(from)?.folder}/ may use only ${allowed?.join(", ")}`);
    }
  }
  return [...found];
}

/** Strongly connected components of more than one module (Tarjan), or a module importing itself. */
export function circles(graph: ImportGraph): string[][] {
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
    for (const next of graph.get(node)?.modules ?? []) {
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
    if (component.length > 1 || graph.get(node)?.modules.includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

/** Every import that breaks the layers, and every circle, as lines a person reads. */
export function layerProblems(graph: ImportGraph): string[] {
  return [...violations(graph), ...circles(graph).map((component) => `import circle: ${component.join(" <-> ")}`)];
}

/** How many imports go from each layer's folder to each other one. */
export function matrix(graph: ImportGraph): string {
  const counts = new Map<string, number>();
  for (const [from, { modules }] of graph) {
    for (const to of modules) {
      const edge = `${layerOf(from)?.folder ?? "(root)"} -> ${layerOf(to)?.folder ?? "(root)"}`;
      if (layerOf(from) !== layerOf(to)) counts.set(edge, (counts.get(edge) ?? 0) + 1);
    }
  }
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([edge, count]) => `${String(count).padStart(4)}  ${edge}`)
    .join("\n");
}
