/**
 * What the OpenAPI document says about each route beyond its zod schemas, taken from the same route
 * config the access and idempotency plugins enforce (so the document cannot drift from them): the
 * roles allowed (`x-roles`, and a line of the description; none = public, no credential), and on
 * every money route an `Idempotency-Key` header, required, with the format the API accepts.
 */
import type { FastifySchema, RouteOptions } from "fastify";
import { jsonSchemaTransform } from "fastify-type-provider-zod";

import { IDEMPOTENCY_KEY_PATTERN } from "./idempotency.ts";

type Transform = typeof jsonSchemaTransform;
type HeadersSchema = { type?: string; properties?: Record<string, unknown>; required?: string[] };

/**
 * fastify-type-provider-zod's transform, then the route's roles and Idempotency-Key requirement.
 * @returns the route's OpenAPI schema and URL, as @fastify/swagger expects from a transform
 */
export const openApiRouteTransform: Transform = (input) => {
  const transformed = jsonSchemaTransform(input);
  const { roles, idempotent } = (input.route as RouteOptions).config ?? {};
  const schema = { ...(transformed.schema as FastifySchema & Record<string, unknown>) };
  const access = roles ? `Roles: ${roles.join(", ")}.` : "Public: no credential needed.";
  schema["x-roles"] = roles ? [...roles] : [];
  schema.description = [schema.description, access].filter(Boolean).join("\n\n");
  if (idempotent) {
    const headers = (schema.headers ?? { type: "object", properties: {} }) as HeadersSchema;
    schema.headers = {
      ...headers,
      type: "object",
      properties: {
        ...headers.properties,
        "idempotency-key": {
          type: "string",
          pattern: IDEMPOTENCY_KEY_PATTERN.source,
          description:
            "Required on every money movement: 8-255 characters of A-Z a-z 0-9 _ : . - (a UUID works), unique per operation; the same key and body replay the first answer, the same key with another body is 422 IDEMPOTENCY_KEY_REUSED",
        },
      },
      required: [...new Set([...(headers.required ?? []), "idempotency-key"])],
    };
  }
  return { schema, url: transformed.url };
};
