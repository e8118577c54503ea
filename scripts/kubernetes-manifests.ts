// `npm run k8s:render -- deploy/kubernetes/overlays/production`: the overlay's manifests as
// kustomize would print them (scripts/kubernetes/kustomize-build.ts), for `kubectl apply -f -`.
// `--check` (part of `npm run check`): renders the base and every overlay and checks them
// against the Kubernetes schemas and this deployment's rules (scripts/kubernetes/manifest-checks.ts).
import { relative } from "node:path";
import { stringify } from "yaml";
import { checkManifests } from "./kubernetes/manifest-checks.ts";
import { KUBERNETES_ROOT, KustomizeError, kustomizeBuild, overlays } from "./kubernetes/kustomize-build.ts";

function check(): number {
  let failed = 0;
  const targets = [{ path: `${KUBERNETES_ROOT}/base`, overlay: false }, ...overlays(KUBERNETES_ROOT).map((path) => ({ path, overlay: true }))];
  for (const { path, overlay } of targets) {
    const name = relative(process.cwd(), path);
    const manifests = kustomizeBuild(path);
    const problems = checkManifests(manifests, { namespaced: overlay, pinnedImages: overlay });
    if (problems.length === 0) console.log(`${name}: ${manifests.length} objects valid`);
    else {
      failed++;
      console.error(`${name}:\n  ${problems.join("\n  ")}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

function main(argv: string[]): number {
  if (argv[0] === "--check") return check();
  if (argv.length !== 1) {
    console.error("usage: npm run k8s:render -- <kustomization directory> | --check");
    return 2;
  }
  console.log(kustomizeBuild(argv[0]!).map((manifest) => stringify(manifest)).join("---\n"));
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof KustomizeError || (error instanceof Error && "code" in error && error.code === "ENOENT"))) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
