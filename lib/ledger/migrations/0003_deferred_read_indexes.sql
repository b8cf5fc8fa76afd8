CREATE TABLE "ledger_deferred_indexes" (
	"name" text PRIMARY KEY NOT NULL,
	"definition" text NOT NULL,
	"deferred_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "journal_entries_reference";--> statement-breakpoint
CREATE INDEX "journal_entries_reference" ON "journal_entries" USING btree ("reference") WHERE "journal_entries"."reference" IS NOT NULL;