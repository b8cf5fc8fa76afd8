CREATE TABLE "journal_orphans" (
	"chain_id" integer NOT NULL,
	"seq" bigint NOT NULL,
	"block_number" bigint NOT NULL,
	"log_index" integer NOT NULL,
	"block_hash" text NOT NULL,
	"transaction_hash" text NOT NULL,
	"entry_hash" text NOT NULL,
	"chain_hash" text NOT NULL,
	"rollback_seq" bigint NOT NULL,
	CONSTRAINT "journal_orphans_chain_id_seq_pk" PRIMARY KEY("chain_id","seq")
);
--> statement-breakpoint
CREATE TABLE "journal_rollbacks" (
	"chain_id" integer NOT NULL,
	"seq" bigint NOT NULL,
	"ancestor_block" bigint NOT NULL,
	"orphaned_count" integer NOT NULL,
	"orphaned_from_seq" bigint,
	"orphaned_to_seq" bigint,
	"content_hash" text NOT NULL,
	"chain_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "journal_rollbacks_chain_id_seq_pk" PRIMARY KEY("chain_id","seq")
);
--> statement-breakpoint
ALTER TABLE "journal_entries" ADD COLUMN "seq" bigint;--> statement-breakpoint
ALTER TABLE "journal_entries" ADD COLUMN "entry_hash" text;--> statement-breakpoint
ALTER TABLE "journal_entries" ADD COLUMN "chain_hash" text;--> statement-breakpoint
ALTER TABLE "ledger_chains" ADD COLUMN "journal_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "ledger_chains" ADD COLUMN "journal_head" text;