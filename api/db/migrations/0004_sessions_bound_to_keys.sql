ALTER TABLE "api_sessions" ADD COLUMN "parent_key_id" uuid;--> statement-breakpoint
ALTER TABLE "api_sessions" ADD COLUMN "wallet_id" uuid;--> statement-breakpoint
ALTER TABLE "api_sessions" ADD COLUMN "revoked_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "api_sessions_user" ON "api_sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "api_sessions_parent_key" ON "api_sessions" USING btree ("parent_key_id");--> statement-breakpoint
-- Sessions from before this migration name no parent and could outlive a revoked key: end them (their users sign in again).
UPDATE "api_sessions" SET "revoked_at" = now() WHERE "parent_key_id" IS NULL AND "wallet_id" IS NULL AND "revoked_at" IS NULL;
