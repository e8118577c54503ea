// A Postman collection (v2.1) from the OpenAPI document: one request per operation, foldered by
// tag, with the credentials each one takes as collection variables. Written by
// `npm run docs:contract`, committed, and drift-checked by `npm run check`.
type JsonObject = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const METHODS = ["get", "post", "put", "patch", "delete"];

function auth(security: JsonObject[] | undefined): JsonObject {
  const schemes = (security ?? []).flatMap((entry) => Object.keys(entry));
  if (schemes.includes("bearer")) return { type: "bearer", bearer: [{ key: "token", value: "{{token}}", type: "string" }] };
  if (schemes.includes("clientBasic")) {
    return {
      type: "basic",
      basic: [
        { key: "username", value: "{{clientId}}", type: "string" },
        { key: "password", value: "{{clientSecret}}", type: "string" },
      ],
    };
  }
  if (schemes.includes("appKey")) return { type: "apikey", apikey: [{ key: "key", value: "x-kamina-app-key", type: "string" }, { key: "value", value: "{{appKey}}", type: "string" }, { key: "in", value: "header", type: "string" }] };
  return { type: "noauth" };
}

function request(path: string, method: string, operation: JsonObject): JsonObject {
  const parameters = (operation.parameters ?? []) as JsonObject[];
  const segments = path.replace(/^\//, "").split("/").map((segment) => segment.replace(/^\{(\w+)\}$/, ":$1"));
  const query = parameters.filter((parameter) => parameter.in === "query").map((parameter) => ({ key: parameter.name, value: "", disabled: !parameter.required, description: parameter.description ?? "" }));
  const variable = parameters.filter((parameter) => parameter.in === "path").map((parameter) => ({ key: parameter.name, value: "" }));
  const content = operation.requestBody?.content as JsonObject | undefined;
  return {
    name: `${method.toUpperCase()} ${path}`,
    request: {
      method: method.toUpperCase(),
      description: operation.summary ?? "",
      auth: auth(operation.security as JsonObject[] | undefined),
      header: content?.["application/json"] ? [{ key: "content-type", value: "application/json" }] : [],
      url: {
        raw: `{{baseUrl}}/${segments.join("/")}${query.length ? `?${query.map((item) => `${item.key}=`).join("&")}` : ""}`,
        host: ["{{baseUrl}}"],
        path: segments,
        ...(query.length ? { query } : {}),
        ...(variable.length ? { variable } : {}),
      },
      ...(content?.["application/json"] ? { body: { mode: "raw", raw: "{}", options: { raw: { language: "json" } } } } : {}),
    },
  };
}

export function postmanCollection(document: JsonObject): JsonObject {
  const folders = new Map<string, JsonObject[]>();
  for (const [path, item] of Object.entries((document.paths ?? {}) as JsonObject)) {
    for (const method of METHODS) {
      const operation = (item as JsonObject)[method] as JsonObject | undefined;
      if (!operation) continue;
      const tag = ((operation.tags ?? ["other"]) as string[])[0]!;
      folders.set(tag, [...(folders.get(tag) ?? []), request(path, method, operation)]);
    }
  }
  return {
    info: {
      name: `${document.info?.title ?? "API"} ${document.info?.version ?? ""}`.trim(),
      description: document.info?.description ?? "",
      schema: "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
    },
    variable: [
      { key: "baseUrl", value: "http://localhost:4000" },
      { key: "clientId", value: "of_lab_demo" },
      { key: "clientSecret", value: "kamina-sandbox-secret" },
      { key: "token", value: "" },
      { key: "appKey", value: "" },
    ],
    item: [...folders].map(([name, item]) => ({ name, item })),
  };
}
