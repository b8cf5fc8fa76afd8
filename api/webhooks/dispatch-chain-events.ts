/**
 * Turns indexed chain events into webhook jobs: reads the indexer's chain_events after a cursor
 * (kept in Redis), finds the merchants whose wallets the event names, and enqueues one delivery
 * per endpoint with a job id from the business key (endpoint + event id), so a re-run after a
 * crash cannot enqueue a duplicate. Event ids are `evt_<txhash>_<logIndex>`: stable, so receivers
 * deduplicate on them.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Redis } from "ioredis";
import { getAddress, isAddress, type Address } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { listChainEvents, type ChainEvent } from "../../lib/ledger/queries/list-chain-events.ts";
import { escrowPaymentStates } from "../../lib/ledger/schema.ts";
import { wallets, webhookEndpoints } from "../db/schema.ts";
import type { createWebhookQueue } from "./webhook-queue.ts";

/** Webhook event type of a chain event: `<contract>.<event>` in lower snake case, e.g. `stablecoin.transfer`. */
export function webhookEventType(event: ChainEvent): string {
  const snake = (text: string) => text.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
  return `${snake(event.contractName)}.${snake(event.eventName)}`;
}

function addressesIn(args: Record<string, unknown>): Address[] {
  return Object.values(args)
    .filter((value): value is string => typeof value === "string" && isAddress(value))
    .map((value) => getAddress(value));
}

export type DispatchChainEventsParameters = {
  database: Database;
  redis: Redis;
  prefix: string;
  chainId: number;
  queue: ReturnType<typeof createWebhookQueue>["queue"];
  batchSize?: number;
};

/**
 * One dispatch pass.
 * @returns the number of jobs enqueued
 */
export async function dispatchChainEvents({
  database,
  redis,
  prefix,
  chainId,
  queue,
  batchSize = 500,
}: DispatchChainEventsParameters): Promise<number> {
  const cursorKey = `${prefix}:webhooks:cursor:${chainId}`;
  const afterId = BigInt((await redis.get(cursorKey)) ?? "0");
  const events = await listChainEvents(database, { chainId, afterId, limit: batchSize });
  if (events.length === 0) return 0;
  const paymentParties = await partiesOfPayments(database, chainId, events);
  const partiesOf = (event: ChainEvent) => {
    const paymentId = event.args["paymentId"];
    return [
      ...addressesIn(event.args),
      ...(typeof paymentId === "string" ? (paymentParties.get(paymentId) ?? []) : []),
    ];
  };
  const addresses = [...new Set(events.flatMap(partiesOf))];
  const owners = addresses.length
    ? await database.db
        .select({ address: wallets.address, endpointId: webhookEndpoints.id })
        .from(wallets)
        .innerJoin(webhookEndpoints, eq(webhookEndpoints.userId, wallets.userId))
        .where(and(inArray(wallets.address, addresses), eq(webhookEndpoints.enabled, true)))
    : [];
  const endpointsByAddress = new Map<string, Set<string>>();
  for (const { address, endpointId } of owners)
    endpointsByAddress.set(address, (endpointsByAddress.get(address) ?? new Set()).add(endpointId));
  const jobs = [];
  for (const event of events) {
    const endpointIds = new Set(partiesOf(event).flatMap((address) => [...(endpointsByAddress.get(address) ?? [])]));
    const id = `evt_${event.transactionHash}_${event.logIndex}`;
    for (const endpointId of endpointIds) {
      jobs.push({
        name: "deliver",
        data: {
          endpointId,
          event: {
            id,
            type: webhookEventType(event),
            createdAt: new Date(Number(event.blockTimestamp) * 1000).toISOString(),
            data: {
              ...event.args,
              blockNumber: event.blockNumber.toString(),
              transactionHash: event.transactionHash,
              logIndex: event.logIndex,
              contract: event.contract,
            },
          },
        },
        opts: { jobId: `${endpointId}-${id}` },
      });
    }
  }
  if (jobs.length) await queue.addBulk(jobs);
  await redis.set(cursorKey, events[events.length - 1]!.id.toString());
  return jobs.length;
}

/**
 * The payer and merchant of each escrow payment the events name: PaymentVoided and PaymentReclaimed
 * carry only the payment id and the payer, yet the merchant must hear of them too.
 */
async function partiesOfPayments(database: Database, chainId: number, events: ChainEvent[]) {
  const paymentIds = [
    ...new Set(
      events.flatMap((event) => (typeof event.args["paymentId"] === "string" ? [event.args["paymentId"]] : [])),
    ),
  ];
  const parties = new Map<string, Address[]>();
  if (paymentIds.length === 0) return parties;
  const rows = await database.db
    .selectDistinct({
      paymentId: escrowPaymentStates.paymentId,
      payer: escrowPaymentStates.payer,
      merchant: escrowPaymentStates.merchant,
    })
    .from(escrowPaymentStates)
    .where(and(eq(escrowPaymentStates.chainId, chainId), inArray(escrowPaymentStates.paymentId, paymentIds)));
  for (const row of rows) parties.set(row.paymentId, [getAddress(row.payer), getAddress(row.merchant)]);
  return parties;
}

/** Runs {@link dispatchChainEvents} every `intervalMs` until stopped. */
export function startWebhookDispatcher(
  parameters: DispatchChainEventsParameters & { intervalMs: number; onError: (error: unknown) => void },
) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    if (stopped) return;
    try {
      while ((await dispatchChainEvents(parameters)) > 0 && !stopped);
    } catch (error) {
      parameters.onError(error);
    }
    if (!stopped) timer = setTimeout(loop, parameters.intervalMs);
  };
  void loop();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
