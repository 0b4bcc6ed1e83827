# Parley's image: `docker build -t parley .` (docker-compose.yml builds it).
# Stage 1 compiles TypeScript with the dev dependencies; stage 2 keeps the production
# dependencies and dist/ only, and runs as the unprivileged `node` user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src src
COPY migrations migrations
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=4000
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
USER node
EXPOSE 4000
# node is PID 1's child through `init: true` in compose; SIGTERM starts a graceful stop.
CMD ["node", "dist/src/main.js"]
