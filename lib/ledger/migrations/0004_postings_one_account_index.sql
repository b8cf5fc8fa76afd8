-- postings_account_history (chain, account, token, block, log index) ordered an account's postings as
-- postings_account_all_tokens (chain, account, block, log index, leg) does, since a ledger holds one
-- token per chain (the indexed Stablecoin): every read's plan already used the latter, and the former
-- cost every posting one more index entry (issue 17). Absent when a cold start deferred it: then its
-- recorded definition goes too, so the rebuild at the head does not bring it back.
DROP INDEX IF EXISTS "postings_account_history";--> statement-breakpoint
DELETE FROM "ledger_deferred_indexes" WHERE "name" = 'postings_account_history';
