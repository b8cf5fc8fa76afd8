ALTER TABLE "money_movements" ADD COLUMN "relay_request" jsonb;--> statement-breakpoint
ALTER TABLE "money_movements" ADD COLUMN "relay_deadline" timestamp with time zone;