# Gantry's container image: `docker build -t gantry .`, then run it with the server variables
# (see README: "Running in a container"). Two stages: the runtime dependencies are installed in the
# first, and only they and the source reach the image, which runs as the unprivileged `node` user.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only, exactly as locked; none needs an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    GANTRY_DATA_DIR=/data
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json app.yml ./
COPY src ./src
# The embedded SQLite store (when DATABASE_URL is unset) lives in /data: mount a volume there.
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
# /healthz answers once the store is open and the server listens.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node itself is PID 1 and gets SIGTERM: Gantry stops taking webhooks, finishes the work in hand and
# releases its leases within GANTRY_SHUTDOWN_TIMEOUT_MS (20 s). ECS waits 30 s (stopTimeout) before
# SIGKILL; Docker waits 10 s unless told more (`docker stop -t 30`).
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=16", "src/main.ts"]
