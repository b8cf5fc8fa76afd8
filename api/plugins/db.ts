import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

import type { Database } from "../../lib/db/database.ts";

declare module "fastify" {
  interface FastifyInstance {
    database: Database;
  }
}

/** Decorates the app with the opened database. The process that opened it (server.ts, a test) closes it. */
export const dbPlugin = fp(
  async (app: FastifyInstance, { database }: { database: Database }) => {
    app.decorate("database", database);
  },
  { name: "db" },
);
