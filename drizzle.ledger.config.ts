import { defineConfig } from "drizzle-kit";

/** drizzle-kit configuration of the ledger's migration set (applied with table "__ledger_migrations"). */
export default defineConfig({
  dialect: "postgresql",
  schema: "./lib/ledger/schema.ts",
  out: "./lib/ledger/migrations",
});
