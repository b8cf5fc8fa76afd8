/**
 * The API's operations as its own OpenAPI document (GET /docs/json) states them: method, path
 * template, parameters by place and the JSON body schema. The fuzzer walks this list, so a route
 * added to the API is fuzzed without anyone listing it here.
 */

/** A JSON Schema node as @fastify/swagger writes it from the zod schemas (the parts the fuzzer reads). */
export type JsonSchema = {
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  description?: string;
};

export type OperationParameter = {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  schema: JsonSchema;
};

export type Operation = {
  method: "GET" | "POST" | "PATCH" | "DELETE" | "PUT";
  /** As in the document, e.g. `/v1/wallets/{walletId}/transfers`. */
  path: string;
  parameters: OperationParameter[];
  /** The application/json body schema, when the operation takes a body. */
  body: JsonSchema | undefined;
  /** Answers a stream (server-sent events) on success rather than one JSON document. */
  streams: boolean;
};

type OpenApiDocument = {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string; in: string; required?: boolean; schema?: JsonSchema }[];
        requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
        responses?: Record<string, { description?: string }>;
      }
    >
  >;
};

const METHODS = new Set(["get", "post", "patch", "delete", "put"]);

/**
 * Every operation of an OpenAPI 3 document, in document order.
 * @param document - the parsed GET /docs/json
 * @returns one entry per path and method
 */
export function operationsOf(document: unknown): Operation[] {
  const { paths } = document as OpenApiDocument;
  const operations: Operation[] = [];
  for (const [path, byMethod] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(byMethod)) {
      if (!METHODS.has(method)) continue;
      operations.push({
        method: method.toUpperCase() as Operation["method"],
        path,
        parameters: (operation.parameters ?? [])
          .filter((parameter) => ["path", "query", "header"].includes(parameter.in))
          .map((parameter) => ({
            name: parameter.name,
            in: parameter.in as OperationParameter["in"],
            required: parameter.required ?? false,
            schema: parameter.schema ?? {},
          })),
        body: operation.requestBody?.content?.["application/json"]?.schema,
        streams: Object.values(operation.responses ?? {}).some((response) =>
          response.description?.includes("event-stream"),
        ),
      });
    }
  }
  return operations;
}
