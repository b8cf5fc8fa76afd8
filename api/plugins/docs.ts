import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

import { openApiRouteTransform } from "./openapi-route-transform.ts";

/** OpenAPI generated from the routes' zod schemas; the interactive page at /docs, the JSON at /docs/json. */
export const docsPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        info: {
          title: "Stablerail API",
          version: "1",
          description:
            "Wallets and settlement on an EVM stablecoin. Errors: `{ error: { code, message, details? } }`. " +
            "Money-moving POSTs require an `Idempotency-Key`. Lists are cursor-paginated (`cursor`, `limit`). " +
            "Amounts are decimal strings of base units.",
        },
        components: {
          securitySchemes: {
            bearer: { type: "http", scheme: "bearer", description: "API key (sr_key_…) or session token (sr_sess_…)" },
          },
        },
        security: [{ bearer: [] }],
      },
      transform: openApiRouteTransform,
    });
    // The page's own Content-Security-Policy (its scripts and styles by hash), over the API's "none".
    await app.register(swaggerUi, { routePrefix: "/docs", staticCSP: true });
  },
  { name: "docs" },
);
