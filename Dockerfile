# Gatehouse node image. TypeScript runs through tsx (no build step).
# Build: docker build -t gatehouse .   Run: see compose.yaml and docs/deployment.md.
# Stage 1: build the Dashboard UI (needs the dev dependencies: Vite, React).
FROM node:20-slim AS dashboard
WORKDIR /build
COPY package.json package-lock.json ./
COPY dashboard-ui ./dashboard-ui
RUN npm ci --no-audit --no-fund --ignore-scripts && npm run build:dashboard

# Stage 2: the node itself, production dependencies only.
FROM node:20-slim

ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    SEED_DEMO_PROJECT=false \
    DATA_DIR=/var/lib/gatehouse

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json openapi.json ./
COPY bin ./bin
COPY migrations ./migrations
COPY src ./src
# src/signature signs with the merchant SDK's code.
COPY packages/sdk/package.json ./packages/sdk/package.json
COPY packages/sdk/src ./packages/sdk/src
COPY --from=dashboard /build/dashboard-ui/dist ./dashboard-ui/dist

# The image's own non-root user (uid 1000). DATA_DIR is only used by the
# embedded PostgreSQL fallback, when DATABASE_URL is unset (not for production).
RUN mkdir -p /var/lib/gatehouse && chown node:node /var/lib/gatehouse
USER node

EXPOSE 8080
# Readiness: database reachable, migrations applied, job queue running.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# SIGTERM stops HTTP, then the job workers, then the pool (within 30 s).
STOPSIGNAL SIGTERM
CMD ["npm", "start"]
