// The subset of `kustomize build` these manifests use, so CI can render and check every overlay
// without the kustomize binary (a Go program no package registry reachable here carries):
// resources (files and directories), namespace, images, labels (pairs) and strategic-merge
// patches from files. A kustomization with any other field is refused rather than rendered
// differently from kustomize; `kubectl kustomize` gives the same output for these fields.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseAllDocuments } from "yaml";

export type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };

interface Kustomization {
  resources?: string[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string }[];
  labels?: { pairs: Record<string, string> }[];
  patches?: { path: string }[];
}

const KNOWN_FIELDS = new Set(["apiVersion", "kind", "resources", "namespace", "images", "labels", "patches"]);
/** Kinds that live outside any namespace (none of ours; listed so namespace is never set on them). */
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"]);

export class KustomizeError extends Error {}

/** Every document of a YAML file, comments dropped. */
export function readManifests(file: string): Manifest[] {
  const documents = parseAllDocuments(readFileSync(file, "utf8"));
  return documents.flatMap((document) => {
    if (document.errors.length > 0) throw new KustomizeError(`${file}: ${document.errors[0]!.message}`);
    const value = document.toJS() as Manifest | null;
    return value === null ? [] : [value];
  });
}

/** What `kustomize build <directory>` prints, as objects. */
export function kustomizeBuild(directory: string): Manifest[] {
  const file = join(directory, "kustomization.yaml");
  const [kustomization] = readManifests(file) as unknown as Kustomization[];
  if (!kustomization) throw new KustomizeError(`${file} is empty`);
  const unknown = Object.keys(kustomization).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0) throw new KustomizeError(`${file}: ${unknown.join(", ")} not supported by this renderer (scripts/kubernetes/kustomize-build.ts); add it there first`);

  let manifests = (kustomization.resources ?? []).flatMap((resource) => {
    const path = join(directory, resource);
    return statSync(path).isDirectory() ? kustomizeBuild(path) : readManifests(path);
  });
  for (const { path } of kustomization.patches ?? []) {
    for (const patch of readManifests(join(directory, path))) {
      const target = manifests.findIndex((manifest) => manifest.kind === patch.kind && manifest.metadata.name === patch.metadata.name);
      if (target === -1) throw new KustomizeError(`${join(directory, path)}: no ${patch.kind} ${patch.metadata.name} to patch`);
      manifests[target] = strategicMerge(manifests[target], patch) as Manifest;
    }
  }
  for (const { pairs } of kustomization.labels ?? []) manifests = manifests.map((manifest) => ({ ...manifest, metadata: { ...manifest.metadata, labels: { ...manifest.metadata.labels, ...pairs } } }));
  if (kustomization.namespace) {
    const namespace = kustomization.namespace;
    manifests = manifests.map((manifest) => (CLUSTER_SCOPED.has(manifest.kind) ? manifest : { ...manifest, metadata: { ...manifest.metadata, namespace } }));
  }
  for (const image of kustomization.images ?? []) manifests = manifests.map((manifest) => replaceImages(manifest, image) as Manifest);
  return manifests;
}

/**
 * Kubernetes' strategic merge for what our patches touch: maps merge key by key, lists of
 * objects with a `name` merge element by name (containers, env, ports, volumes), other lists and
 * scalars are replaced.
 */
export function strategicMerge(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch) && [...base, ...patch].every((item) => isObject(item) && typeof item.name === "string")) {
    const merged = base.map((item) => {
      const match = patch.find((candidate) => (candidate as { name: string }).name === (item as { name: string }).name);
      return match === undefined ? item : strategicMerge(item, match);
    });
    for (const item of patch) if (!base.some((existing) => (existing as { name: string }).name === (item as { name: string }).name)) merged.push(item);
    return merged;
  }
  if (isObject(base) && isObject(patch)) {
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(patch)) merged[key] = value === null ? undefined : key in base ? strategicMerge(base[key], value) : value;
    return merged;
  }
  return patch;
}

function replaceImages(node: unknown, image: { name: string; newName?: string; newTag?: string }): unknown {
  if (Array.isArray(node)) return node.map((item) => replaceImages(item, image));
  if (!isObject(node)) return node;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "image" && typeof value === "string" && value.split(":")[0] === image.name) {
      const [, tag] = value.split(":");
      copy[key] = `${image.newName ?? image.name}${image.newTag ? `:${image.newTag}` : tag ? `:${tag}` : ""}`;
    } else copy[key] = replaceImages(value, image);
  }
  return copy;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The overlays under `root/overlays`, each a directory with a kustomization.yaml. */
export function overlays(root: string): string[] {
  const folder = join(root, "overlays");
  return readdirSync(folder)
    .map((name) => join(folder, name))
    .filter((path) => statSync(join(path, "kustomization.yaml"), { throwIfNoEntry: false })?.isFile());
}

export const KUBERNETES_ROOT = join(dirname(new URL(import.meta.url).pathname), "../../deploy/kubernetes");
