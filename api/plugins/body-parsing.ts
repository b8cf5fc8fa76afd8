/**
 * What a request body may be, for every route at once: JSON only (any other content type is
 * 415 UNSUPPORTED_MEDIA_TYPE), nested at most {@link MAX_JSON_DEPTH} levels (400 JSON_TOO_DEEP —
 * checked on the raw text before parsing, so a 10,000-deep array costs one scan), and a route
 * that declares no body schema takes none (an absent body or `{}`; anything else is 400).
 */
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

import { ValidationError } from "../../lib/errors/base.ts";

/** Deeper than any request of this API (a payout item is 3 levels down). */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether JSON text nests objects and arrays deeper than `limit`: one pass over the characters,
 * skipping string contents (brackets inside strings do not count). Pure.
 */
export function jsonNestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i += 1;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth += 1;
      if (depth > limit) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth -= 1;
  }
  return false;
}

const isEmptyObject = (value: unknown) =>
  typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;

export const bodyParsingPlugin = fp(
  async (app: FastifyInstance) => {
    const parseJson = app.getDefaultJsonParser("error", "error");
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
      if (jsonNestsDeeperThan(body as string, MAX_JSON_DEPTH)) {
        done(
          new ValidationError("JSON_TOO_DEEP", `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels`),
          undefined,
        );
        return;
      }
      parseJson(request, body as string, done);
    });

    app.addHook("preValidation", async (request) => {
      if (request.routeOptions.schema?.body !== undefined) return;
      if (request.body === undefined || request.body === null || isEmptyObject(request.body)) return;
      throw new ValidationError("VALIDATION_FAILED", "This route takes no request body; send none (or {})", {
        details: { issues: [{ path: "", message: "must be absent or an empty object" }] },
      });
    });
  },
  { name: "body-parsing", dependencies: ["errors"] },
);
