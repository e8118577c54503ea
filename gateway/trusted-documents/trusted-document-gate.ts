// Trusted documents (TRUSTED_DOCUMENTS=enforce): over HTTP a client runs only the documents
// registered for it, named by hash; a raw query, an unknown hash and an automatic persisted
// query's registration are refused before anything is parsed. The gateway's own stored
// operations (the REST routes) do not come over HTTP and are not concerned.
//
// The refusal happens while the request's context is built (after the token is verified: the
// client is known, and Apollo answers a coded error with its HTTP status from there); the plugin
// then puts the registered text in place of whatever text the request carried, so Apollo parses,
// validates and runs that text only, and its APQ cache never sees the request.
import type { ApolloServerPlugin } from "@apollo/server";
import { graphQLError } from "../../platform/errors.ts";
import type { GraphQLHttpRequest } from "../../platform/http/graphql-http-server.ts";
import type { GatewayContext } from "../context.ts";
import { documentHash, type TrustedDocumentStore } from "./trusted-document-store.ts";
import { isJsonObject } from "../../platform/json-object.ts";

/** What a request names and carries: `documentId` or Apollo's `extensions.persistedQuery.sha256Hash`, and `query`. */
interface Requested {
  hash: string | undefined;
  query: string | undefined;
  batch: boolean;
}

export class TrustedDocumentGate {
  constructor(
    private readonly store: TrustedDocumentStore,
    readonly mode: "enforce" | "off",
  ) {}

  /**
   * The registered text this request runs, or undefined when the gate is off; refuses (a coded
   * GraphQLError, 400) anything else in enforce mode.
   */
  async admit(clientId: string, request: GraphQLHttpRequest | undefined): Promise<string | undefined> {
    if (this.mode === "off") return undefined;
    const { hash, query, batch } = requested(request);
    if (batch) throw refusal("BAD_REQUEST", "Send one operation per request");
    if (hash === undefined) {
      throw refusal(
        "PERSISTED_QUERY_REQUIRED",
        "This gateway runs only trusted documents: send the SHA-256 of a document registered for your client in `extensions.persistedQuery.sha256Hash` (Apollo's format) or `documentId`, not the query text",
      );
    }
    if (query !== undefined && documentHash(query) !== hash) throw refusal("BAD_REQUEST", "The query's SHA-256 is not the hash sent with it");
    const document = await this.store.find(clientId, hash);
    if (document === undefined) {
      const registration = query !== undefined ? " Sending the text does not register it here: automatic persisted queries' registration is off." : "";
      throw refusal("PERSISTED_QUERY_NOT_FOUND", `No trusted document with this hash is registered for your client.${registration} Register it first (docs/operations.md, Trusted documents).`);
    }
    return document;
  }

  /** Puts the admitted document in place of the request's text (and drops its APQ extension). */
  plugin(): ApolloServerPlugin<GatewayContext> {
    return {
      async requestDidStart({ request, contextValue }) {
        const document = contextValue.trustedDocument;
        if (document === undefined || !request.http) return;
        request.query = document;
        if (request.extensions?.persistedQuery !== undefined) {
          const { persistedQuery: _persistedQuery, ...rest } = request.extensions;
          request.extensions = rest;
        }
      },
    };
  }
}

function refusal(code: "PERSISTED_QUERY_REQUIRED" | "PERSISTED_QUERY_NOT_FOUND" | "BAD_REQUEST", message: string) {
  return graphQLError(code, message, { http: { status: 400 } });
}

const HASH = /^(?:sha256:)?([0-9a-f]{64})$/;

function requested(request: GraphQLHttpRequest | undefined): Requested {
  if (!request) return { hash: undefined, query: undefined, batch: false };
  let fields: { query?: unknown; documentId?: unknown; extensions?: unknown };
  if (request.method === "GET") {
    const search = new URLSearchParams(request.search);
    fields = { query: search.get("query") ?? undefined, documentId: search.get("documentId") ?? undefined, extensions: parseJson(search.get("extensions")) };
  } else if (Array.isArray(request.body)) {
    return { hash: undefined, query: undefined, batch: true };
  } else {
    fields = typeof request.body === "object" && request.body !== null ? (request.body as typeof fields) : {};
  }
  const persisted = isJsonObject(fields.extensions) && isJsonObject(fields.extensions.persistedQuery) ? fields.extensions.persistedQuery.sha256Hash : undefined;
  const named = typeof fields.documentId === "string" ? fields.documentId : typeof persisted === "string" ? persisted : undefined;
  const hash = named === undefined ? undefined : (HASH.exec(named.toLowerCase())?.[1] ?? "unknown");
  return { hash, query: typeof fields.query === "string" && fields.query !== "" ? fields.query : undefined, batch: false };
}

function parseJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

