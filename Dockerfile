# The API image. The project runs TypeScript through tsx, so the build stage only installs
# production dependencies; the runtime stage copies them beside the sources, and the console's
# build (a stage with the development dependencies: codegen and Vite).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY console/package.json ./console/
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json codegen.ts ./
COPY console/package.json ./console/
RUN npm ci --no-audit --no-fund
COPY schema/schema.graphql ./schema/
COPY console ./console
RUN npx graphql-codegen --config codegen.ts && npm run build -w console

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY schema ./schema
COPY resolvers ./resolvers
COPY graph ./graph
COPY subscriptions ./subscriptions
COPY --from=console /app/console/dist ./console/dist
# DATA_DIR (.data): without ADMIN_API_KEY the API keeps its local admin key there.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:4000/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/cli/main.ts"]
