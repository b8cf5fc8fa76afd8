import type { FastifySchemaCompiler } from "fastify";
import { validatorCompiler as zodValidatorCompiler } from "fastify-type-provider-zod";
import type { z } from "zod";

import { ValidationError } from "../../lib/errors/base.ts";

/**
 * The path of the first NUL character (U+0000) in a parsed request part — in a string value or a
 * key, at any depth — or undefined. PostgreSQL cannot store U+0000 in text, so a NUL anywhere
 * would otherwise reach a query and fail as a 500. Pure; iterative (depth is bounded by the JSON
 * parser, see plugins/body-parsing.ts).
 */
export function findNulCharacter(value: unknown): string | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path: "" }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === "string") {
      if (current.includes("\u0000")) return path;
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => stack.push({ value: item, path: `${path}/${index}` }));
    } else if (current !== null && typeof current === "object") {
      for (const [key, item] of Object.entries(current)) {
        if (key.includes("\u0000")) return `${path}/${key.replaceAll("\u0000", "\\u0000")}`;
        stack.push({ value: item, path: `${path}/${key}` });
      }
    }
  }
  return undefined;
}

/**
 * The API's one validator compiler: fastify-type-provider-zod's, behind one guard every schema gets —
 * no NUL character in the params, query, headers or body (400 VALIDATION_FAILED naming the field).
 * Set once on the app (app.ts), so no route can forget it.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> = (route) => {
  const validate = zodValidatorCompiler(route);
  return (data: unknown) => {
    const path = findNulCharacter(data);
    if (path !== undefined) {
      return {
        error: new ValidationError(
          "VALIDATION_FAILED",
          `The request ${route.httpPart ?? ""} contains a NUL character`,
          {
            details: { issues: [{ path, message: "must not contain a NUL character (U+0000)" }] },
          },
        ),
      };
    }
    return validate(data);
  };
};
