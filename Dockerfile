# One image for the three processes (ca-api, ocsp-responder, worker); the
# compose file picks the entry point. Node 24 LTS.
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
# softhsm2 and opensc only matter with the SoftHSM2 profile (PKCS#11 keys).
RUN apt-get update && apt-get install -y --no-install-recommends softhsm2 opensc ca-certificates && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOST=0.0.0.0
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The operator console's static files (served by ca-api at /console).
COPY --from=build /app/apps/ca-api/console ./apps/ca-api/console
COPY --from=build /app/package.json ./package.json
USER node
CMD ["node", "dist/apps/ca-api/src/main.js"]
