CREATE INDEX "money_movements_wallet" ON "money_movements" USING btree ("wallet_id","seq");--> statement-breakpoint
CREATE INDEX "money_movements_relay" ON "money_movements" USING btree ("relay_id");