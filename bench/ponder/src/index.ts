// For each Transfer: the transfer row, then the sender's balance down and the recipient's up
// (the mint's sender, the zero address, goes negative, as the issuer's account does in our ledger).
import { ponder } from "ponder:registry";
import { balances, transfers } from "ponder:schema";

ponder.on("Token:Transfer", async ({ event, context }) => {
  const { from, to, value } = event.args;
  await context.db.insert(transfers).values({
    id: event.id,
    blockNumber: event.block.number,
    transactionHash: event.transaction.hash,
    logIndex: event.log.logIndex,
    from,
    to,
    value,
  });
  await context.db
    .insert(balances)
    .values({ address: from, balance: -value })
    .onConflictDoUpdate((row) => ({ balance: row.balance - value }));
  await context.db
    .insert(balances)
    .values({ address: to, balance: value })
    .onConflictDoUpdate((row) => ({ balance: row.balance + value }));
});
