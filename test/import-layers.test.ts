// The layer check `npm run check` runs (scripts/check-imports.ts), fed small made-up trees: what
// it must refuse, and what it must let through.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, test } from "node:test";
import { importGraph, layerProblems } from "../scripts/import-layers.ts";

function problemsOf(tree: Record<string, string>): string[] {
  return layerProblems(importGraph(Object.keys(tree), (file) => tree[file] ?? ""));
}

describe("import layers", () => {
  test("imports down the layers, within a folder and from a subgraph to subgraphs/shared pass", () => {
    assert.deepEqual(
      problemsOf({
        "runtime/app.ts": `import { startGateway } from "../gateway/server.ts";\nimport { SUBGRAPHS } from "../subgraphs/index.ts";`,
        "gateway/server.ts": `import { feed } from "../realtime/events/feed.ts";\nimport { errors } from "../platform/errors.ts";`,
        "realtime/events/feed.ts": `import type { AlertEvent } from "../../domain/alerts/alert-event.ts";`,
        "domain/alerts/alert-event.ts": `import { z } from "zod";\nimport type { Country } from "../../generated/prisma/enums.ts";`,
        "subgraphs/index.ts": `import { debts } from "./debts/index.ts";`,
        "subgraphs/debts/index.ts": `import { loadTypeDefs } from "../shared/subgraph-server.ts";`,
        "subgraphs/shared/subgraph-server.ts": `import { graphql } from "graphql";\nimport { errors } from "../../platform/errors.ts";`,
        "platform/errors.ts": `import { GraphQLError } from "graphql";`,
        "test/layers.test.ts": `import { layerProblems } from "../scripts/import-layers.ts";`,
      }),
      [],
    );
  });

  test("an import up the layers is refused, a type-only one too", () => {
    const problems = problemsOf({
      "platform/database.ts": `import type { Gateway } from "../gateway/server.ts";`,
      "gateway/server.ts": `export const x = 1;`,
    });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /platform\/database\.ts -> gateway\/server\.ts: platform\/ \(rank 1\) may not import gateway\/ \(rank 3\)/);
  });

  test("folders of one rank use each other only where the layers say so: gateway may use realtime, not the reverse", () => {
    const problems = problemsOf({
      "gateway/subscriptions/hub.ts": `import { feed } from "../../realtime/events/feed.ts";`,
      "realtime/events/feed.ts": `import { sealFor } from "../../gateway/context.ts";`,
      "subgraphs/alerts/evaluate.ts": `import { ALERT } from "../../realtime/events/event-bus.ts";`,
    });
    assert.deepEqual(problems.map((problem) => problem.split(":")[0]), ["realtime/events/feed.ts -> gateway/context.ts", "subgraphs/alerts/evaluate.ts -> realtime/events/event-bus.ts"]);
  });

  test("a subgraph reaching into another subgraph is refused", () => {
    const problems = problemsOf({ "subgraphs/wellness/run.ts": `import { evaluateUser } from "../alerts/prevention/evaluate.ts";` });
    assert.deepEqual(problems, ["subgraphs/wellness/run.ts -> subgraphs/alerts/prevention/evaluate.ts: a subgraph imports only its own folder and subgraphs/shared"]);
  });

  test("the domain stays pure: no node built-ins, no GraphQL, no database client", () => {
    const problems = problemsOf({
      "domain/prevention/rules.ts": `import { readFileSync } from "node:fs";\nimport { z } from "zod";`,
      "domain/diagnosis/json.ts": `export { GraphQLError } from "graphql";\nconst pg = await import("pg");`,
    });
    assert.deepEqual(problems.sort(), [
      "domain/diagnosis/json.ts -> graphql: domain/ may use only zod",
      "domain/diagnosis/json.ts -> pg: domain/ may use only zod",
      "domain/prevention/rules.ts -> node:fs: domain/ may use only zod",
    ]);
  });

  test("a circle is refused, even inside one folder and through a dynamic import", () => {
    const problems = problemsOf({
      "gateway/rest/router.ts": `import { graphRoutes } from "./graph-routes.ts";`,
      "gateway/rest/graph-routes.ts": `import { tokenRoutes } from "./token-routes.ts";`,
      "gateway/rest/token-routes.ts": `const { Router } = await import("./router.ts");`,
      "gateway/rest/envelope.ts": `export const ok = 1;`,
    });
    assert.deepEqual(problems, ["import circle: gateway/rest/graph-routes.ts <-> gateway/rest/router.ts <-> gateway/rest/token-routes.ts"]);
  });

  test("a module in a folder of no layer is named, so a new folder gets its place", () => {
    assert.deepEqual(problemsOf({ "tools/client.ts": `import { x } from "../platform/errors.ts";` }), ["tools/client.ts is in no layer: add its folder to LAYERS"]);
  });

  test("the partner SDK imports none of our modules and no package but its own (graphql-ws, jose, typed documents); tests may import it", () => {
    assert.deepEqual(
      problemsOf({
        "sdk/js/alert-stream.ts": `import { createClient } from "graphql-ws";\nimport type { Country } from "../../generated/prisma/enums.ts";`,
        "test/alert-stream-sdk.test.ts": `import { subscribeToAlerts } from "../sdk/js/alert-stream.ts";`,
      }),
      [],
    );
    assert.deepEqual(
      problemsOf({
        "sdk/js/alert-stream.ts": `import { errors } from "../../platform/errors.ts";\nimport WebSocket from "ws";`,
        "platform/errors.ts": `export const errors = 1;`,
      }).sort(),
      [
        "sdk/js/alert-stream.ts -> platform/errors.ts: sdk/ (rank 1) may not import platform/ (rank 1)",
        "sdk/js/alert-stream.ts -> ws: sdk/ may use only graphql-ws, jose, @graphql-typed-document-node/core",
      ],
    );
  });

  test("this repository's imports follow the layers", () => {
    const output = execFileSync(process.execPath, ["--import", "tsx", "scripts/check-imports.ts"], { encoding: "utf8", stdio: "pipe" });
    assert.match(output, /imports follow the layers: \d+ modules, no circles/);
  });
});
