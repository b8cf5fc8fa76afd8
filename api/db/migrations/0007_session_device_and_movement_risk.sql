ALTER TABLE "api_sessions" ADD COLUMN "method" text;--> statement-breakpoint
ALTER TABLE "api_sessions" ADD COLUMN "ip" text;--> statement-breakpoint
ALTER TABLE "api_sessions" ADD COLUMN "user_agent" text;--> statement-breakpoint
ALTER TABLE "api_sessions" ADD COLUMN "device_hash" text;--> statement-breakpoint
ALTER TABLE "api_users" ADD COLUMN "tier" text DEFAULT 'basic' NOT NULL;--> statement-breakpoint
ALTER TABLE "money_movements" ADD COLUMN "risk" jsonb;--> statement-breakpoint
ALTER TABLE "money_movements" ADD COLUMN "travel_rule" jsonb;--> statement-breakpoint
CREATE INDEX "money_movements_user_time" ON "money_movements" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "money_movements_user_to" ON "money_movements" USING btree ("user_id","to_address");