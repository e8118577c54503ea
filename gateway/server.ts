import { readFileSync } from "node:fs";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServer } from "@apollo/server";
import type { Config, SubgraphName } from "../platform/config/config.ts";
import { createErrorFormatter } from "../platform/http/format-error.ts";
import { graphQLLimitOptions, operationLimitsPlugin } from "../platform/graphql-limits.ts";
import { startGraphQLHttpServer } from "../platform/http/graphql-http-server.ts";
import type { Logger } from "../platform/logger.ts";
import { authenticate } from "../platform/auth/authenticate.ts";
import { allTenants, createPrismaClient, type DatabaseTarget } from "../platform/database/database.ts";
import { createAuthServices, type AuthServices } from "./auth/services.ts";
import { costCharger, rateLimitHeadersPlugin, startGraphQLRequestCount } from "./rate-limit/graphql-rate-limits.ts";
import { stringifyResult } from "./shared-answers.ts";
import { startRateLimits } from "./rate-limit/rate-limits.ts";
import { gatewayContext, type GatewayContext } from "./context.ts";
import { ScopedGateway } from "./scopes/scoped-gateway.ts";
import { GraphQLPersonIds } from "./pairwise/graphql-person-ids.ts";
import { PairwiseIds } from "../platform/auth/pairwise-ids.ts";
import { introspectionGuard } from "./introspection-guard.ts";
import { sandboxLandingPage, withLandingPage } from "./landing-page.ts";
import { withDashboard } from "./dashboard/dashboard-routes.ts";
import { TrustedDocumentGate } from "./trusted-documents/trusted-document-gate.ts";
import { TrustedDocumentStore } from "./trusted-documents/trusted-document-store.ts";
import type { ExpenseImporter } from "./rest/import-routes.ts";
import { createRestRoutes } from "./rest/router.ts";
import { SubgraphDataSource } from "./subgraph-data-source.ts";
import { installResultShaping } from "./result-shaping.ts";
import { GatewaySignature } from "../platform/auth/gateway-signature.ts";
import { startSubscriptions, type RunningSubscriptions } from "./subscriptions/index.ts";
import { operationMetricsPlugin } from "../platform/observability/operation-metrics-plugin.ts";
import { countSubscriptions } from "../platform/observability/metrics.ts";
import { databaseReadiness } from "../platform/database/readiness.ts";

export interface GatewayOptions {
  config: Config;
  database: DatabaseTarget;
  host: string;
  port: number;
  subgraphUrls: Record<SubgraphName, string>;
  logger: Logger;
  /** Defaults to the committed schema/supergraph.graphql. */
  supergraphSdl?: string;
  /** Serves POST /v1/imports (the runtime's: an import ends with the subgraphs' diagnosis and prevention). */
  importer?: ExpenseImporter;
}

export interface RunningGateway {
  /** e.g. http://127.0.0.1:4000/graphql */
  url: string;
  origin: string;
  /** Consent, token and key services (tests and benchmarks mint tokens through them). */
  auth: AuthServices;
  /** graphql-ws subscriptions on the same /graphql. */
  subscriptions: RunningSubscriptions;
  /** Whether its database answers (/readyz). */
  ready(): Promise<boolean>;
  stop(): Promise<void>;
}

// NOT_FOUND, CONFLICT and FORBIDDEN come from subgraph mutations (runDiagnosis, acknowledgeAlert,
// resolveAlert, raiseSandboxAlert); the subgraph's own formatter has already let only catalogued codes through.
const SAFE_GATEWAY_CODES = new Set(["SUBGRAPH_UNAVAILABLE", "SERVICE_UNAVAILABLE", "UNAUTHORIZED_FIELD_OR_TYPE", "UNAUTHENTICATED", "NOT_FOUND", "CONFLICT", "FORBIDDEN", "INVALID_DPOP_PROOF"]);

export function readSupergraph(): string {
  return readFileSync(new URL("../schema/supergraph.graphql", import.meta.url), "utf8");
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const logger = options.logger.child({ component: "gateway" });
  const supergraphSdl = options.supergraphSdl ?? readSupergraph();
  const prisma = createPrismaClient(options.database, { access: allTenants("gateway") });
  const rateLimits = await startRateLimits(options.config.rateLimits, options.database, prisma, logger);
  const auth = await createAuthServices(prisma, options.config, logger, rateLimits);
  const signature = new GatewaySignature(options.config.tokens.keyEncryptionKey);
  installResultShaping();
  const gateway = new ScopedGateway({
    supergraphSdl,
    gateway: {
      buildService: ({ name }) => {
        const url = options.subgraphUrls[name as SubgraphName];
        if (!url) throw new Error(`The supergraph names a subgraph "${name}" that has no configured URL`);
        return new SubgraphDataSource(name, url, options.config.subgraphTimeoutMs, signature, options.config.shareInflightFetches);
      },
      logger,
    },
    prisma,
    logger,
    enforce: !options.config.unsafeDisableScopeEnforcement,
    personIds: new GraphQLPersonIds(new PairwiseIds(options.config.tokens.pairwiseIdKey)),
    shareInflightOperations: options.config.shareInflightFetches,
  });
  const formatError = createErrorFormatter(logger, SAFE_GATEWAY_CODES);
  const { security } = options.config;
  const trustedDocuments = new TrustedDocumentGate(new TrustedDocumentStore(prisma, security.firstPartyClients), security.trustedDocuments);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError,
    includeStacktraceInErrorResponses: false,
    // A shared execution's answer is encoded once for all its requests (shared-answers.ts).
    stringifyResult,
    // The launcher owns shutdown; Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
    // Answers are no-store (personal data): no cache hints to compute.
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      // Per-operation counts, errors and latency, and the operation on the trace (off: nothing).
      operationMetricsPlugin<GatewayContext>(),
      // GET /graphql in a browser when the dashboard's bundle (and its GraphiQL) is not built: Apollo Sandbox, telemetry off.
      sandboxLandingPage<GatewayContext>(),
      operationLimitsPlugin(options.config.limits.graphql, { onCost: costCharger(rateLimits) }),
      rateLimitHeadersPlugin(),
      trustedDocuments.plugin(),
      ...(security.introspection ? [] : [introspectionGuard()]),
    ],
    // Enforced trusted documents register nothing on the fly: the gate resolves hashes itself.
    ...(security.trustedDocuments === "enforce" ? { persistedQueries: false as const } : {}),
    // introspectionGuard refuses it with its own code; "Did you mean" spells out the schema.
    introspection: true,
    hideSchemaDetailsFromClientErrors: !security.suggestions,
    // Refused before planning: tokens at parse, the rest at validation (see platform/graphql-limits.ts).
    ...graphQLLimitOptions(options.config.limits.graphql),
  });
  let ready = false;
  const readiness = databaseReadiness(prisma);
  await apollo.start();
  ready = true;
  const http = await startGraphQLHttpServer({
    apollo,
    host: options.host,
    port: options.port,
    logger,
    limits: options.config.limits.http,
    ready: () => ready,
    readiness,
    security,
    routes: withDashboard(withLandingPage(createRestRoutes(auth, apollo, options.importer)), auth),
    context: async ({ requestId, request, graphql, holds }) => {
      const { viewer, authorization, dpop } = await authenticate(auth.verifier, request, auth.proofs);
      const { meter, counted } = startGraphQLRequestCount(rateLimits, viewer.clientId);
      const trustedDocument = await trustedDocuments.admit(viewer.clientId, graphql);
      return { ...gatewayContext(auth.verifier, requestId, viewer, authorization, dpop, meter), requestCounted: counted, ...(trustedDocument !== undefined ? { trustedDocument } : {}), ...(holds ? { holds } : {}) };
    },
  });
  // Subscriptions (graphql-ws) share the HTTP server and the /graphql path.
  const subscriptions = await startSubscriptions({
    server: http.server,
    config: options.config,
    database: options.database,
    prisma,
    verifier: auth.verifier,
    proofs: auth.proofs,
    supergraphSdl,
    subgraphUrls: options.subgraphUrls,
    formatError,
    logger,
    trustedDocuments,
  });
  const uncountSubscriptions = countSubscriptions(() => subscriptions.hub.size.subscribers);
  return {
    url: `${http.origin}/graphql`,
    origin: http.origin,
    auth,
    subscriptions,
    ready: readiness,
    async stop() {
      ready = false;
      uncountSubscriptions();
      await subscriptions.stop();
      await http.close();
      await apollo.stop();
      await rateLimits.close();
      await prisma.$disconnect();
    },
  };
}
