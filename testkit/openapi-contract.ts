// Checks a live answer against the OpenAPI document the gateway serves: the route and status are
// documented, the content type is the documented one, and a JSON body matches its schema (extra
// keys allowed: the contract is the keys it names). Used by our tests and by `npm run contract`.
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsPlugin from "ajv-formats";

type JsonObject = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// ajv-formats is CommonJS with a default export that ESM sees one level down.
const addFormats = ((addFormatsPlugin as unknown as { default?: typeof addFormatsPlugin }).default ?? addFormatsPlugin) as unknown as (ajv: Ajv2020) => void;

export interface Answer {
  method: string;
  /** The path as called, query string allowed: `/v1/consents/cns_1?x=1`. */
  path: string;
  status: number;
  contentType: string | null;
  body: unknown;
}

export class ContractChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: { template: string; pattern: RegExp }[];

  constructor(private readonly document: JsonObject) {
    addFormats(this.ajv);
    this.templates = Object.keys(document.paths ?? {}).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
    }));
  }

  /** Documented operations, as `GET /v1/debts`. */
  operations(): string[] {
    return Object.entries(this.document.paths as JsonObject).flatMap(([path, item]) => Object.keys(item as JsonObject).map((method) => `${method.toUpperCase()} ${path}`));
  }

  /** The documented operation a call reaches, as `GET /v1/consents/{id}`; undefined when none. */
  operationOf(method: string, calledPath: string): string | undefined {
    const path = calledPath.split("?")[0]!;
    const found = this.templates.find(({ pattern }) => pattern.test(path));
    if (!found || !(this.document.paths[found.template] as JsonObject)[method.toLowerCase()]) return undefined;
    return `${method.toUpperCase()} ${found.template}`;
  }

  /** What is wrong with an answer; empty when it keeps the contract. */
  problems(answer: Answer): string[] {
    const path = answer.path.split("?")[0]!;
    const found = this.templates.find(({ pattern }) => pattern.test(path));
    if (!found) return [`${answer.method} ${path}: no such path in the document`];
    const operation = (this.document.paths[found.template] as JsonObject)[answer.method.toLowerCase()] as JsonObject | undefined;
    const where = `${answer.method} ${found.template} ${answer.status}`;
    if (!operation) {
      // A method the path does not take: every such answer is a 405 envelope naming the methods in Allow.
      if (answer.status !== 405) return [`${answer.method} ${found.template}: no such operation in the document, yet the answer is ${answer.status}, not 405`];
      return this.envelopeProblems(`${answer.method} ${found.template} 405`, answer);
    }
    const response = (operation.responses?.[String(answer.status)] ?? operation.responses?.default) as JsonObject | undefined;
    if (!response) return [`${where}: status not documented (documented: ${Object.keys(operation.responses ?? {}).join(", ")})`];
    const content = (response.content ?? {}) as JsonObject;
    const documentedTypes = Object.keys(content);
    if (documentedTypes.length === 0) return [];
    const type = (answer.contentType ?? "").split(";")[0]!.trim().toLowerCase();
    if (!documentedTypes.includes(type)) return [`${where}: content type ${type || "(none)"} is not the documented ${documentedTypes.join(" or ")}`];
    const schema = (content[type] as JsonObject).schema as JsonObject | undefined;
    if (!schema || type !== "application/json") return [];
    const validate = this.validatorFor(`${where} ${type}`, schema);
    if (validate(answer.body)) return [];
    return (validate.errors ?? []).map((error) => `${where}: body${error.instancePath} ${error.message ?? "does not match"}`);
  }

  private envelopeProblems(where: string, answer: Answer): string[] {
    const validate = this.validatorFor("ErrorEnvelope", { $ref: "#/components/schemas/ErrorEnvelope" });
    if (validate(answer.body)) return [];
    return (validate.errors ?? []).map((error) => `${where}: body${error.instancePath} ${error.message ?? "does not match"}`);
  }

  private validatorFor(key: string, schema: JsonObject): ValidateFunction {
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(this.resolved(schema) as object);
      this.compiled.set(key, validate);
    }
    return validate;
  }

  /** The schema with references to the document's components written out. */
  private resolved(schema: unknown): unknown {
    if (Array.isArray(schema)) return schema.map((item) => this.resolved(item));
    if (schema === null || typeof schema !== "object") return schema;
    const ref = (schema as JsonObject).$ref;
    if (typeof ref === "string" && ref.startsWith("#/components/schemas/")) return this.resolved(this.document.components.schemas[ref.slice("#/components/schemas/".length)]);
    return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, this.resolved(value)]));
  }
}
