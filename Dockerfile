# The image every Sprincube workload runs (bff, account in all tracks, friend); the Deployment's
# environment says which service it is, its version and its behaviour knobs.
#
#   docker build -t sprincube/app:0.1.0 .
#
# Two stages: the first may need a compiler for better-sqlite3's native module when no prebuilt
# binary fits; the second carries only the production dependencies and the sources.

FROM node:20-slim AS dependencies
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production \
    PORT=8080
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY src ./src
# The harness runs from the same image (manifests/nightly/cronjob.yaml): its analysis
# configuration, the manifests it deploys and the k6 scripts it bundles for the k6-operator.
COPY analysis ./analysis
COPY manifests ./manifests
COPY load ./load
# The image's `node` user (uid 1000) matches the manifests' runAsUser, so runAsNonRoot holds.
USER node
EXPOSE 8080
# tsx strips the types at load time, as `node bin/canary.js` does locally: there is no build step.
# The entry is the plain service (src/app/main.ts, configured by the environment): in a cluster
# Istio's sidecar does what the local data plane (src/mesh/) does on one machine.
CMD ["node", "--import", "tsx", "src/app/main.ts"]
