// Checks rendered Kubernetes manifests: each object against the Kubernetes API's JSON schemas
// (kubernetes-models: the OpenAPI schemas of the Kubernetes API compiled to validators), then the
// rules this deployment depends on, which a schema cannot say.
import { ConfigMap, PersistentVolumeClaim, Service } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import type { Manifest } from "./kustomize-build.ts";
import { SUBGRAPH_NAMES } from "../../platform/config/config.ts";

interface Validatable {
  validate(): void;
}

const MODELS: Record<string, new (data: never) => Validatable> = {
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "apps/v1/Deployment": Deployment,
  "batch/v1/Job": Job,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
};

/** Values that come from the Secret kamina-secrets, never from a manifest (README, Configuration). */
export const SECRET_VARIABLES = ["DATABASE_URL", "KEY_ENCRYPTION_KEY", "APP_API_KEY", "SANDBOX_CLIENT_SECRET", "LIVE_CLIENT_SECRET", "METRICS_TOKEN", "REDIS_URL"];

interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path?: string; port?: string | number } };
  readinessProbe?: { httpGet?: { path?: string; port?: string | number } };
  startupProbe?: unknown;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean };
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: { containers: Container[]; securityContext?: { runAsNonRoot?: boolean } };
}

/** Every problem found; none means the manifests may be applied. */
export function checkManifests(manifests: readonly Manifest[], options: { namespaced?: boolean; pinnedImages?: boolean } = {}): string[] {
  const problems: string[] = [];
  const named = (manifest: Manifest) => `${manifest.kind} ${manifest.metadata?.name ?? "(no name)"}`;
  for (const manifest of manifests) {
    const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
    if (manifest.kind === "Secret") problems.push(`${named(manifest)}: secrets are not kept in these manifests; create kamina-secrets from the environment (docs/operations.md)`);
    else if (!Model) problems.push(`${named(manifest)}: ${manifest.apiVersion} ${manifest.kind} is not a kind these checks know`);
    else {
      try {
        new Model(manifest as never).validate();
      } catch (error) {
        problems.push(`${named(manifest)}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (options.namespaced && !manifest.metadata?.namespace) problems.push(`${named(manifest)}: no namespace`);
  }

  const deployments = manifests.filter((manifest) => manifest.kind === "Deployment");
  const workloads = [...deployments, ...manifests.filter((manifest) => manifest.kind === "Job")];
  for (const workload of workloads) {
    const template = (workload.spec as { template: PodTemplate }).template;
    if (template.spec.securityContext?.runAsNonRoot !== true) problems.push(`${named(workload)}: the pod must set runAsNonRoot`);
    for (const container of template.spec.containers) {
      const where = `${named(workload)} container ${container.name}`;
      if (!container.image || /:latest$/.test(container.image) || (options.pinnedImages && !/:[\w.-]+$/.test(container.image))) problems.push(`${where}: the image must be pinned by tag (${container.image ?? "none"})`);
      if (!container.resources?.requests?.cpu || !container.resources.requests.memory || !container.resources.limits?.memory) problems.push(`${where}: CPU and memory requests and a memory limit are required`);
      if (container.securityContext?.allowPrivilegeEscalation !== false || container.securityContext.readOnlyRootFilesystem !== true) problems.push(`${where}: allowPrivilegeEscalation false and a read-only root filesystem are required`);
      for (const variable of container.env ?? []) {
        if (SECRET_VARIABLES.includes(variable.name) && (variable.value !== undefined || !variable.valueFrom?.secretKeyRef)) problems.push(`${where}: ${variable.name} must come from a Secret (secretKeyRef), never a value`);
      }
    }
  }
  for (const config of manifests.filter((manifest) => manifest.kind === "ConfigMap")) {
    for (const key of Object.keys((config as { data?: Record<string, string> }).data ?? {})) {
      if (SECRET_VARIABLES.includes(key)) problems.push(`${named(config)}: ${key} is a secret; it belongs in kamina-secrets`);
    }
  }

  for (const deployment of deployments) {
    const template = (deployment.spec as { template: PodTemplate }).template;
    const labels = template.metadata?.labels ?? {};
    for (const container of template.spec.containers) {
      const where = `${named(deployment)} container ${container.name}`;
      const portNames = new Set((container.ports ?? []).map((port) => port.name));
      if (container.livenessProbe?.httpGet?.path !== "/healthz") problems.push(`${where}: liveness must probe /healthz`);
      if (container.readinessProbe?.httpGet?.path !== "/readyz") problems.push(`${where}: readiness must probe /readyz (it checks the database)`);
      if (!container.startupProbe) problems.push(`${where}: a startup probe keeps liveness from killing a slow start`);
      for (const probe of [container.livenessProbe, container.readinessProbe]) {
        const port = probe?.httpGet?.port;
        if (typeof port === "string" && !portNames.has(port)) problems.push(`${where}: a probe names port ${port}, which the container does not declare`);
      }
    }
    const budgets = manifests.filter((manifest) => manifest.kind === "PodDisruptionBudget" && selects((manifest.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels, labels));
    if (budgets.length !== 1) problems.push(`${named(deployment)}: needs exactly one PodDisruptionBudget selecting its pods (found ${budgets.length})`);
    const scalers = manifests.filter((manifest) => manifest.kind === "HorizontalPodAutoscaler" && (manifest.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef.name === deployment.metadata.name);
    if (scalers.length !== 1) problems.push(`${named(deployment)}: needs exactly one HorizontalPodAutoscaler (found ${scalers.length})`);
    for (const scaler of scalers) {
      const { minReplicas = 1, maxReplicas } = scaler.spec as { minReplicas?: number; maxReplicas: number };
      if (minReplicas > maxReplicas) problems.push(`${named(scaler)}: minReplicas ${minReplicas} is above maxReplicas ${maxReplicas}`);
    }
  }

  const pieces = deployments.map((deployment) => (deployment.spec as { template: PodTemplate }).template.spec.containers[0]?.args ?? []);
  for (const piece of ["gateway", "realtime", ...SUBGRAPH_NAMES]) {
    if (!pieces.some((args) => args.join(" ") === `runtime/start.ts --only ${piece}`)) problems.push(`no Deployment runs --only ${piece}`);
  }
  if (!workloads.some((workload) => workload.kind === "Job" && (workload.spec as { template: PodTemplate }).template.spec.containers.some((container) => container.args?.includes("scripts/migrate.ts")))) problems.push("no migration Job runs scripts/migrate.ts");

  // The gateway reaches each subgraph at the Service and port its configuration names.
  const settings = Object.assign({}, ...manifests.filter((manifest) => manifest.kind === "ConfigMap").map((config) => (config as { data?: Record<string, string> }).data ?? {})) as Record<string, string>;
  for (const name of SUBGRAPH_NAMES) {
    const url = settings[`SUBGRAPH_${name.toUpperCase()}_URL`];
    const match = url ? /^http:\/\/([a-z0-9-]+):(\d+)\/graphql$/.exec(url) : null;
    const service = match ? manifests.find((manifest) => manifest.kind === "Service" && manifest.metadata.name === match[1]) : undefined;
    const ports = ((service?.spec as { ports?: { port: number }[] } | undefined)?.ports ?? []).map((port) => port.port);
    if (!match || !service || !ports.includes(Number(match[2]))) problems.push(`SUBGRAPH_${name.toUpperCase()}_URL (${url ?? "unset"}) names no Service port of these manifests`);
  }
  return problems;
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return selector !== undefined && Object.entries(selector).every(([key, value]) => labels[key] === value);
}
