import { readFileSync } from "node:fs";
import { databaseReadiness } from "../../platform/database/readiness.ts";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/resolverMap.js";
import { parse, type DocumentNode } from "graphql";
import type { Config, SubgraphName } from "../../platform/config/config.ts";
import { DEFAULT_LIMITS, type LimitsConfig } from "../../platform/config/limits-config.ts";
import { graphQLLimitOptions, operationCheck, operationLimitsPlugin, subgraphLimits } from "../../platform/graphql-limits.ts";
import { createErrorFormatter } from "../../platform/http/format-error.ts";
import { startGraphQLHttpServer, type AdmissionRefusal, type AdmissionRequest } from "../../platform/http/graphql-http-server.ts";
import type { Logger } from "../../platform/logger.ts";
import { authenticate } from "../../platform/auth/authenticate.ts";
import { ConsentGrants } from "../../platform/auth/consent-grants.ts";
import { BEHIND_GATEWAY } from "../../platform/auth/dpop.ts";
import { GATEWAY_SIGNATURE_HEADER, GatewaySignature } from "../../platform/auth/gateway-signature.ts";
import { FieldAccess, RECEIPT_LISTS_HEADER } from "../../platform/auth/field-access.ts";
import { enforceScopes, receiptsPlugin, withReceipts } from "./scope-enforcement.ts";
import { LeanQueries, ValidatedQueries } from "./lean-queries.ts";
import { TokenVerifier, type TokenSettings } from "../../platform/auth/token-verifier.ts";
import type { Viewer } from "../../platform/auth/viewer.ts";
import type { SubgraphContext } from "./context.ts";
import { allTenants, ServiceDatabase, type DatabaseTarget, type PrismaClient } from "../../platform/database/database.ts";
import { tenantOf } from "../../platform/auth/tenant.ts";
import { scalarResolvers } from "./scalars.ts";
import { createFieldVault } from "../../platform/encryption/vault-factory.ts";
import type { FieldVault } from "../../platform/encryption/field-vault.ts";

/** What a subgraph's mutations are built from, per request. */
export interface MutationDependencies<Service, Loaders> {
  prisma: PrismaClient;
  viewer: Viewer;
  service: Service;
  loaders: Loaders;
}

/** The part of the configuration subgraphs' services read. */
export type SubgraphSettings = Pick<Config, "reports">;

/** What a subgraph's services share across requests, built once per process. */
export interface SubgraphResources {
  /** Opens (and seals) the fields encrypted at rest with their tenant's data keys. */
  vault: FieldVault;
}

/** One subgraph: its SDL, its resolvers and what each request's context holds (see SubgraphContext). */
export interface SubgraphDefinition<Service, Loaders, Mutations = undefined> {
  name: SubgraphName;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<SubgraphContext<Service, Loaders, Mutations>>;
  /** The service for one request's viewer: its queries filter by the viewer's tenant. */
  createService(prisma: PrismaClient, viewer: Viewer, settings: SubgraphSettings, resources: SubgraphResources): Service;
  /** Fresh DataLoaders for each request, over that request's service. */
  createLoaders(service: Service): Loaders;
  /** The subgraph's mutations for one request (`() => undefined` in a subgraph without any). */
  createMutations(dependencies: MutationDependencies<Service, Loaders>): Mutations;
}

export interface SubgraphOptions {
  host: string;
  port: number;
  database: DatabaseTarget;
  tokens: TokenSettings;
  logger: Logger;
  settings: SubgraphSettings;
  /** Operation and HTTP limits (config.limits); the defaults when absent. A subgraph reached directly costs no more than the gateway allows. */
  limits?: LimitsConfig;
  /** Count the SQL statements this subgraph sends (tests and benchmarks read the count). */
  countStatements?: boolean;
  /**
   * Enforce `@requiresScopes`/`@authenticated` per field and report receipts (default true).
   * Only `UNSAFE_DISABLE_SCOPE_ENFORCEMENT` turns it off, for benchmarks; the token is always verified.
   */
  enforceScopes?: boolean;
  /** Serve requests the gateway did not sign (default false); only `UNSAFE_UNSIGNED_SUBGRAPH_REQUESTS`, local use only, sets it. */
  acceptUnsigned?: boolean;
}

export interface RunningSubgraph {
  name: SubgraphName;
  url: string;
  /** SQL statements sent since start (0 unless countStatements). */
  statementCount(): number;
  /** Queries answered by the lean path since start (lean-queries.ts), not by Apollo's pipeline. */
  leanAnswers(): number;
  /** Whether its database answers (/readyz). */
  ready(): Promise<boolean>;
  stop(): Promise<void>;
}

/** Reads the SDL file that sits beside a subgraph's code. */
export function loadTypeDefs(moduleUrl: string, file = "schema.graphql"): DocumentNode {
  return parse(readFileSync(new URL(file, moduleUrl), "utf8"));
}

export async function startSubgraph<Service, Loaders, Mutations>(
  definition: SubgraphDefinition<Service, Loaders, Mutations>,
  options: SubgraphOptions,
): Promise<RunningSubgraph> {
  const logger = options.logger.child({ subgraph: definition.name });
  if (!options.tokens.keyEncryptionKey) throw new Error(`The ${definition.name} subgraph needs the key-encryption key: it verifies the gateway's signature with a key derived from it`);
  const gatewaySignature = new GatewaySignature(options.tokens.keyEncryptionKey, options.tokens.previousKeyEncryptionKeys);
  if (options.acceptUnsigned) logger.warn("UNSAFE_UNSIGNED_SUBGRAPH_REQUESTS is set: this subgraph serves requests the gateway did not sign (local benchmarks only)");
  let statements = 0;
  // One pool; the token check spans tenants (a token names its person's country only once it is
  // verified), every resolver's statements are bound to the request's tenants (context below).
  const database = new ServiceDatabase(options.database, options.countStatements ? { onStatement: () => void statements++ } : {});
  const prisma = database.client(allTenants(`${definition.name}-token-check`));
  const verifier = new TokenVerifier(prisma, options.tokens);
  const resources: SubgraphResources = {
    vault: createFieldVault(prisma, { keyEncryptionKey: options.tokens.keyEncryptionKey, previousKeyEncryptionKeys: options.tokens.previousKeyEncryptionKeys ?? [] }),
  };
  const consentGrants = new ConsentGrants(prisma);
  const enforcing = options.enforceScopes ?? true;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const operationLimits = subgraphLimits(limits.graphql);
  const schema = buildSubgraphSchema([{ typeDefs: definition.typeDefs, resolvers: { ...scalarResolvers, ...definition.resolvers } as GraphQLResolverMap<unknown> }]);
  if (enforcing) enforceScopes(schema);
  else logger.warn("UNSAFE_DISABLE_SCOPE_ENFORCEMENT is set: this subgraph does not check scopes per field (benchmarks only)");
  const formatError = createErrorFormatter(logger);
  const validated = new ValidatedQueries(schema);
  const apollo = new ApolloServer<SubgraphContext<Service, Loaders, Mutations>>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    // The launcher owns shutdown; Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
    // Traces are for Apollo's hosted studio, which this deployment does not use; cache hints are
    // for shared HTTP caches, which must never keep personal data (answers are no-store). Either
    // plugin would wrap every field resolver and cost time on every field of every request.
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      operationLimitsPlugin(operationLimits),
      ...(enforcing ? [receiptsPlugin()] : []),
      validated.plugin(),
    ],
    ...graphQLLimitOptions(operationLimits),
  });
  const lean = new LeanQueries({
    apollo,
    validated,
    check: operationCheck(operationLimits),
    formatError,
    extensions: (extensions, context) => (enforcing ? withReceipts(extensions, context.access) : extensions),
  });
  await apollo.start();
  const readiness = databaseReadiness(prisma);
  const http = await startGraphQLHttpServer({
    apollo,
    host: options.host,
    port: options.port,
    logger,
    limits: limits.http,
    readiness,
    execute: (request) => lean.execute(request),
    ...(options.acceptUnsigned ? {} : { admit: (request: AdmissionRequest) => refuseUnsigned(gatewaySignature, request, logger) }),
    context: async ({ requestId, request }) => {
      // Only the gateway gets here (admit), having checked the proof's method, URL, time and
      // replay: a bound token's proof is checked for signature, `ath` and key only.
      const { viewer } = await authenticate(verifier, request, BEHIND_GATEWAY, { acceptGatewaySeal: true });
      const tenantPrisma = database.forTenants(tenantOf(viewer));
      const service = definition.createService(tenantPrisma, viewer, options.settings, resources);
      const loaders = definition.createLoaders(service);
      const mutations = definition.createMutations({ prisma: tenantPrisma, viewer, service, loaders });
      return { requestId, viewer, service, loaders, mutations, access: new FieldAccess(viewer, consentGrants, request.headers[RECEIPT_LISTS_HEADER] === "lists") };
    },
  });
  logger.debug({ url: `${http.origin}/graphql` }, "subgraph listening");
  return {
    name: definition.name,
    url: `${http.origin}/graphql`,
    statementCount: () => statements,
    leanAnswers: () => lean.answered,
    ready: readiness,
    async stop() {
      await http.close();
      await apollo.stop();
      await database.close();
    },
  };
}

/**
 * A subgraph serves only the gateway: a GraphQL request without its valid signature is refused
 * before its body is parsed or any resolver runs (gateway-signature.ts). /healthz stays open.
 */
function refuseUnsigned(signature: GatewaySignature, request: AdmissionRequest, logger: Logger): AdmissionRefusal | undefined {
  const header = request.headers[GATEWAY_SIGNATURE_HEADER];
  const refusal = signature.verify(typeof header === "string" ? header : undefined, request);
  if (refusal === undefined) return undefined;
  logger.warn({ reason: refusal, method: request.method }, "refused a request not signed by the gateway");
  return { status: 401, code: "GATEWAY_SIGNATURE_REQUIRED", message: "This port serves only the gateway: send the request to the gateway's /graphql" };
}
