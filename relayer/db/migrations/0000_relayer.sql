CREATE TABLE "relay_transitions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"relay_id" text NOT NULL,
	"status" text NOT NULL,
	"at" timestamp (3) with time zone DEFAULT clock_timestamp() NOT NULL,
	"transaction_hash" text,
	"detail" jsonb
);
--> statement-breakpoint
CREATE TABLE "relayer_transactions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"relayer" text NOT NULL,
	"nonce" bigint NOT NULL,
	"hash" text NOT NULL,
	"raw" text NOT NULL,
	"relay_ids" jsonb NOT NULL,
	"max_fee_per_gas" numeric(78, 0) NOT NULL,
	"max_priority_fee_per_gas" numeric(78, 0) NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "relays" (
	"relay_id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"requested_by" text NOT NULL,
	"request" jsonb NOT NULL,
	"relayer" text,
	"nonce" integer,
	"transaction_hash" text,
	"block_number" numeric(78, 0),
	"batch_index" integer,
	"error_code" text,
	"error_message" text,
	"deadline" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "relay_transitions_relay_idx" ON "relay_transitions" USING btree ("relay_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "relayer_transactions_hash_idx" ON "relayer_transactions" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "relayer_transactions_nonce_idx" ON "relayer_transactions" USING btree ("relayer","nonce");--> statement-breakpoint
CREATE INDEX "relays_status_idx" ON "relays" USING btree ("status","updated_at");