import { defineConfig } from "drizzle-kit";

/** drizzle-kit configuration of the relayer's migration set (applied with table "__relayer_migrations"). */
export default defineConfig({
  dialect: "postgresql",
  schema: "./relayer/db/schema.ts",
  out: "./relayer/db/migrations",
});
