ALTER TABLE "relays" ADD COLUMN "block_hash" text;--> statement-breakpoint
ALTER TABLE "relays" ADD COLUMN "final_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "relays_unfinal_idx" ON "relays" USING btree ("relayer","block_number") WHERE "relays"."status" = 'confirmed' AND "relays"."final_at" IS NULL;