# syntax=docker/dockerfile:1
# kamina-graph: one image for every piece. The command picks the piece:
#   (default)                         gateway, five subgraphs and the realtime workers in one process
#   runtime/start.ts --only gateway   the gateway          (--only wellness|debts|expenses|coach|alerts: one subgraph)
#   runtime/start.ts --only realtime  the realtime workers (outbox relay, webhooks, exports, retention)
#   scripts/migrate.ts                apply the migrations (the Kubernetes migration Job)
# Built by `docker build -t kamina-graph .`; CI cannot build it (no registry for base images is
# reachable there): test/deploy-manifests.test.ts checks this file statically instead.

ARG NODE_VERSION=20.20

# --- build: every dependency, dev ones too, to generate the Prisma client -------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
ENV CI=true PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY prisma.config.ts ./
# postinstall (prisma/generate-client.mjs) writes the Prisma client into generated/.
RUN npm ci --no-audit --no-fund
COPY . .
# When the dashboard (a Vite front-end served at /dashboard) is in the tree, its bundle is built
# here and only the bundle is copied on: `npm run dashboard:build` (skipped while the script is absent).
RUN npm run --if-present dashboard:build

# --- production dependencies only ---------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
ENV CI=true
COPY package.json package-lock.json ./
# No dev dependencies, and no install scripts: the one that matters (the Prisma client) ran in build.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime ---------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000 NODE_OPTIONS=--enable-source-maps
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/generated ./generated
COPY --from=build --chown=node:node /app/package.json /app/tsconfig.json /app/prisma.config.ts ./
COPY --from=build --chown=node:node /app/platform ./platform
COPY --from=build --chown=node:node /app/domain ./domain
COPY --from=build --chown=node:node /app/gateway ./gateway
COPY --from=build --chown=node:node /app/subgraphs ./subgraphs
COPY --from=build --chown=node:node /app/realtime ./realtime
COPY --from=build --chown=node:node /app/runtime ./runtime
COPY --from=build --chown=node:node /app/schema ./schema
COPY --from=build --chown=node:node /app/prisma ./prisma
COPY --from=build --chown=node:node /app/scripts ./scripts
COPY --from=build --chown=node:node /app/docs ./docs
# The dashboard's bundle only (its sources and Vite stay in the build stage).
COPY --from=build --chown=node:node /app/web/dashboard/dist ./web/dashboard/dist
# The node image's unprivileged user (uid 1000); the manifests also run it as non-root, read-only.
USER node
EXPOSE 4000 4001 4002 4003 4004 4005 9464
# Docker's own check (Kubernetes uses its probes instead): HEALTH_PORT for a piece that does not
# listen on PORT (a subgraph: its SUBGRAPH_<NAME>_PORT; the realtime workers: METRICS_PORT).
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HEALTH_PORT || process.env.PORT) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["runtime/start.ts"]
