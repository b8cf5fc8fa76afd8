CREATE TABLE "account_balances" (
	"chain_id" integer NOT NULL,
	"account" text NOT NULL,
	"token" text NOT NULL,
	"balance" numeric(78, 0) NOT NULL,
	"block_number" bigint NOT NULL,
	CONSTRAINT "account_balances_chain_id_account_token_pk" PRIMARY KEY("chain_id","account","token")
);
--> statement-breakpoint
CREATE TABLE "chain_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chain_id" integer NOT NULL,
	"block_number" bigint NOT NULL,
	"log_index" integer NOT NULL,
	"block_hash" text NOT NULL,
	"block_timestamp" bigint NOT NULL,
	"transaction_hash" text NOT NULL,
	"contract" text NOT NULL,
	"contract_name" text NOT NULL,
	"event_name" text NOT NULL,
	"args" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "escrow_payment_states" (
	"chain_id" integer NOT NULL,
	"payment_id" text NOT NULL,
	"block_number" bigint NOT NULL,
	"log_index" integer NOT NULL,
	"transaction_hash" text NOT NULL,
	"event" text NOT NULL,
	"status" text NOT NULL,
	"payer" text NOT NULL,
	"merchant" text NOT NULL,
	"operator" text NOT NULL,
	"token" text NOT NULL,
	"held" numeric(78, 0) NOT NULL,
	"captured" numeric(78, 0) NOT NULL,
	"refunded" numeric(78, 0) NOT NULL,
	"terms" jsonb NOT NULL,
	CONSTRAINT "escrow_payment_states_chain_id_payment_id_block_number_log_index_pk" PRIMARY KEY("chain_id","payment_id","block_number","log_index")
);
--> statement-breakpoint
CREATE TABLE "journal_entries" (
	"chain_id" integer NOT NULL,
	"block_number" bigint NOT NULL,
	"log_index" integer NOT NULL,
	"block_hash" text NOT NULL,
	"block_timestamp" bigint NOT NULL,
	"transaction_hash" text NOT NULL,
	"token" text NOT NULL,
	"kind" text NOT NULL,
	"reference" text,
	"event" jsonb NOT NULL,
	CONSTRAINT "journal_entries_chain_id_block_number_log_index_pk" PRIMARY KEY("chain_id","block_number","log_index")
);
--> statement-breakpoint
CREATE TABLE "ledger_blocks" (
	"chain_id" integer NOT NULL,
	"number" bigint NOT NULL,
	"hash" text NOT NULL,
	"parent_hash" text NOT NULL,
	"timestamp" bigint NOT NULL,
	CONSTRAINT "ledger_blocks_chain_id_number_pk" PRIMARY KEY("chain_id","number")
);
--> statement-breakpoint
CREATE TABLE "ledger_chains" (
	"chain_id" integer PRIMARY KEY NOT NULL,
	"genesis_hash" text NOT NULL,
	"head_number" bigint NOT NULL,
	"head_hash" text NOT NULL,
	"head_timestamp" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "postings" (
	"chain_id" integer NOT NULL,
	"block_number" bigint NOT NULL,
	"log_index" integer NOT NULL,
	"leg" integer NOT NULL,
	"account" text NOT NULL,
	"counterparty" text NOT NULL,
	"token" text NOT NULL,
	"amount" numeric(78, 0) NOT NULL,
	"balance_after" numeric(78, 0) NOT NULL,
	"kind" text NOT NULL,
	"block_timestamp" bigint NOT NULL,
	CONSTRAINT "postings_chain_id_block_number_log_index_leg_pk" PRIMARY KEY("chain_id","block_number","log_index","leg")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "chain_events_position" ON "chain_events" USING btree ("chain_id","block_number","log_index");--> statement-breakpoint
CREATE INDEX "journal_entries_tx" ON "journal_entries" USING btree ("transaction_hash");--> statement-breakpoint
CREATE INDEX "journal_entries_reference" ON "journal_entries" USING btree ("reference");--> statement-breakpoint
CREATE INDEX "postings_account_history" ON "postings" USING btree ("chain_id","account","token","block_number","log_index");--> statement-breakpoint
CREATE INDEX "postings_account_time" ON "postings" USING btree ("chain_id","account","block_timestamp");