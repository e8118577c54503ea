// Issue 20, item 2: the Kubernetes manifests render for every overlay and validate against the
// Kubernetes schemas and this deployment's rules; the Dockerfile is checked statically (no image
// can be built here: the base image's registry is not reachable).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { DockerfileParser } from "dockerfile-ast";
import { validate, ValidationSeverity } from "dockerfile-utils";
import { checkManifests } from "../scripts/kubernetes/manifest-checks.ts";
import { KUBERNETES_ROOT, kustomizeBuild, overlays, strategicMerge, type Manifest } from "../scripts/kubernetes/kustomize-build.ts";
import { SUBGRAPH_NAMES } from "../platform/config/config.ts";

const ROOT = new URL("..", import.meta.url).pathname;

test("the base and every overlay render and pass the schemas and the deployment rules", () => {
  assert.deepEqual(checkManifests(kustomizeBuild(`${KUBERNETES_ROOT}/base`)), []);
  const names = overlays(KUBERNETES_ROOT);
  assert.ok(names.length >= 2, "staging and production");
  for (const overlay of names) {
    const manifests = kustomizeBuild(overlay);
    assert.deepEqual(checkManifests(manifests, { namespaced: true, pinnedImages: true }), [], overlay);
    const deployments = manifests.filter((manifest) => manifest.kind === "Deployment");
    assert.equal(deployments.length, 2 + SUBGRAPH_NAMES.length, "gateway, realtime workers and one per subgraph");
    assert.ok(deployments.every((deployment) => JSON.stringify(deployment).includes('"image":"registry.example.com/kamina-graph:0.1.0"')), "the overlay's image everywhere");
  }
});

test("the production overlay's patches land: more gateways, a bigger gateway, NATS", () => {
  const manifests = kustomizeBuild(`${KUBERNETES_ROOT}/overlays/production`);
  const scaler = find(manifests, "HorizontalPodAutoscaler", "kamina-gateway").spec as { minReplicas: number; maxReplicas: number };
  assert.deepEqual([scaler.minReplicas, scaler.maxReplicas], [3, 20]);
  const gateway = find(manifests, "Deployment", "kamina-gateway") as unknown as { spec: { template: { spec: { containers: { name: string; resources: { requests: Record<string, string> }; livenessProbe?: unknown }[] } } } };
  const [container] = gateway.spec.template.spec.containers;
  assert.equal(container?.resources.requests.cpu, "1");
  assert.ok(container?.livenessProbe, "a patch merges into the container by name, keeping its probes");
  const config = find(manifests, "ConfigMap", "kamina-config") as unknown as { data: Record<string, string> };
  assert.equal(config.data.NATS_URL, "nats://nats.messaging.svc:4222");
  assert.equal(config.data.REALTIME_WORKERS, "false", "the base's settings stay");
});

test("the checks refuse what would break a deployment: a secret value, no readiness, a wrong schema, a missing budget", () => {
  const base = kustomizeBuild(`${KUBERNETES_ROOT}/base`);
  const broken = (change: (manifests: Manifest[]) => void) => {
    const copy = structuredClone(base);
    change(copy);
    return checkManifests(copy).join("\n");
  };
  const gatewayContainer = (manifests: Manifest[]) => (find(manifests, "Deployment", "kamina-gateway").spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0]!;

  assert.match(broken((manifests) => (gatewayContainer(manifests).env as unknown[]).push({ name: "APP_API_KEY", value: "in-the-manifest" })), /APP_API_KEY must come from a Secret/);
  assert.match(broken((manifests) => ((find(manifests, "ConfigMap", "kamina-config") as unknown as { data: Record<string, string> }).data.DATABASE_URL = "postgres://x")), /DATABASE_URL is a secret/);
  assert.match(broken((manifests) => manifests.push({ apiVersion: "v1", kind: "Secret", metadata: { name: "kamina-secrets" } })), /secrets are not kept/);
  assert.match(broken((manifests) => delete gatewayContainer(manifests).readinessProbe), /readiness must probe \/readyz/);
  assert.match(broken((manifests) => ((find(manifests, "Deployment", "kamina-debts").spec as Record<string, unknown>).replicas = "two")), /Deployment kamina-debts: .*replicas must be integer/);
  assert.match(broken((manifests) => manifests.splice(manifests.findIndex((manifest) => manifest.kind === "PodDisruptionBudget" && manifest.metadata.name === "kamina-coach"), 1)), /Deployment kamina-coach: needs exactly one PodDisruptionBudget/);
  assert.match(broken((manifests) => manifests.splice(manifests.findIndex((manifest) => manifest.kind === "Job"), 1)), /no migration Job/);
  assert.match(broken((manifests) => ((find(manifests, "ConfigMap", "kamina-config") as unknown as { data: Record<string, string> }).data.SUBGRAPH_ALERTS_URL = "http://kamina-alerts:9999/graphql")), /SUBGRAPH_ALERTS_URL .* names no Service port/);
  assert.match(broken((manifests) => (gatewayContainer(manifests).image = "kamina-graph:latest")), /pinned by tag/);
  const realtimePod = (manifests: Manifest[]) => (find(manifests, "Deployment", "kamina-realtime").spec as { template: { spec: Record<string, unknown> } }).template.spec;
  assert.match(broken((manifests) => (realtimePod(manifests).securityContext = {})), /runAsNonRoot/);
});

test("strategic merge: maps by key, named lists by name, other lists replaced", () => {
  assert.deepEqual(
    strategicMerge({ a: 1, list: [{ name: "x", v: 1 }, { name: "y", v: 2 }], plain: [1, 2] }, { b: 2, list: [{ name: "y", v: 3 }, { name: "z" }], plain: [3] }),
    { a: 1, b: 2, list: [{ name: "x", v: 1 }, { name: "y", v: 3 }, { name: "z" }], plain: [3] },
  );
});

test("the Dockerfile: multi-stage, production dependencies only, non-root, a health check, nothing it copies missing", () => {
  const content = readFileSync(`${ROOT}Dockerfile`, "utf8");
  const errors = validate(content).filter((diagnostic) => diagnostic.severity === ValidationSeverity.ERROR);
  assert.deepEqual(errors.map((error) => `${error.range.start.line + 1}: ${error.message}`), []);

  const dockerfile = DockerfileParser.parse(content);
  const stages = dockerfile.getFROMs();
  assert.ok(stages.length >= 3, "build, production dependencies, runtime");
  const instructions = dockerfile.getInstructions();
  const finalStart = stages.at(-1)!.getRange().start.line;
  const final = instructions.filter((instruction) => instruction.getRange().start.line >= finalStart);
  const keyword = (name: string) => final.filter((instruction) => instruction.getKeyword() === name);

  const user = keyword("USER").at(-1)?.getArgumentsContent();
  assert.ok(user && user !== "root" && user !== "0", `the final stage runs as a non-root user (${user})`);
  assert.equal(keyword("HEALTHCHECK").length, 1);
  assert.match(keyword("HEALTHCHECK")[0]!.getArgumentsContent() ?? "", /\/healthz/);
  assert.equal(keyword("RUN").length, 0, "the runtime stage installs nothing: it only copies");

  // node_modules reaches the final image only from the stage that ran npm ci --omit=dev.
  const modules = keyword("COPY").filter((copy) => /node_modules/.test(copy.getTextContent()));
  assert.equal(modules.length, 1);
  const from = /--from=(\S+)/.exec(modules[0]!.getTextContent())?.[1];
  const depsStage = stages.find((stage) => stage.getBuildStage() === from);
  assert.ok(depsStage, `node_modules comes from a named stage (${from})`);
  const depsRuns = instructions.filter((instruction) => instruction.getKeyword() === "RUN" && instruction.getRange().start.line > depsStage.getRange().start.line && instruction.getRange().start.line < finalStart);
  assert.ok(depsRuns.some((run) => /npm ci .*--omit=dev/.test(run.getTextContent())), "that stage installs without dev dependencies");

  // Every path the build stage copies from the context exists, and every path the runtime copies from the build stage too.
  for (const copy of instructions.filter((instruction) => instruction.getKeyword() === "COPY")) {
    const args = copy.getArguments().map((arg) => arg.getValue()).filter((arg) => !arg.startsWith("--"));
    const fromStage = /--from=(\S+)/.test(copy.getTextContent());
    for (const source of args.slice(0, -1)) {
      // Written in the build stage: the Prisma client, and the dashboard's bundle (npm run dashboard:build).
      if (source === "." || source.includes("node_modules") || source.endsWith("/generated") || source.endsWith("/web/dashboard/dist")) continue;
      const path = fromStage ? source.replace(/^\/app\//, "") : source;
      assert.ok(existsSync(`${ROOT}${path}`), `COPY ${source}: ${path} exists in the repository`);
    }
  }
});

test(".dockerignore keeps secrets, local data, dependencies and history out of the build context", () => {
  const ignored = readFileSync(`${ROOT}.dockerignore`, "utf8").split("\n").map((line) => line.trim());
  for (const entry of [".git", ".env", ".env.*", "node_modules", ".data", "generated", "test", "bench"]) assert.ok(ignored.includes(entry), entry);
});

function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
  assert.ok(found, `${kind} ${name}`);
  return found;
}
