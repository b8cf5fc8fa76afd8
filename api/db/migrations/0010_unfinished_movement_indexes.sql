-- The money door reads what a sender's unfinished movements reserve on every movement
-- (api/movements/available-balance.ts), and a wallet's balances list its movements still at the door
-- (api/movements/pending-movements.ts). Through these partial indexes both read the few rows not yet handed
-- to the relayer, not the sender's or the wallet's whole history (issue 17). A plan uses them only when the
-- statement's own text implies the predicate: write the statuses as literals, never as parameters.
-- Their price: `status` is now a column an index depends on, so marking a movement queued is no longer a
-- HOT update, and writes a new entry in every index of the table (measured in bench/risk/user-activity.ts).
-- The (user_id, created_at) index goes: nothing has read it since the risk engine's windows moved to Redis,
-- and it was one of those entries.
DROP INDEX "money_movements_user_time";--> statement-breakpoint
CREATE INDEX "money_movements_unfinished" ON "money_movements" USING btree ("from_address","user_id") WHERE "money_movements"."status" IN ('pending', 'held');--> statement-breakpoint
CREATE INDEX "money_movements_wallet_pending" ON "money_movements" USING btree ("wallet_id") WHERE "money_movements"."status" = 'pending';