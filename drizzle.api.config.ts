import { defineConfig } from "drizzle-kit";

/** drizzle-kit configuration of the API's migration set (applied with table "__api_migrations"). */
export default defineConfig({
  dialect: "postgresql",
  schema: ["./api/db/schema.ts", "./api/db/security-schema.ts"],
  out: "./api/db/migrations",
});
