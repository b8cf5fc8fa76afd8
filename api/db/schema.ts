import { sql, type SQL, type SQLWrapper } from "drizzle-orm";
import {
  bigint,
  boolean,
  index,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

/**
 * The API's own tables (principals, credentials, wallets, pending money movements, webhook
 * endpoints and their delivery log). The ledger's tables belong to the indexer; the API only
 * reads them through lib/ledger/queries. Amounts are NUMERIC(78,0).
 */
const amount = (name: string) => numeric(name, { precision: 78, scale: 0 });

/** A principal: a wallet-UI user, a merchant, or staff (operator, auditor, admin). */
export const apiUsers = pgTable("api_users", {
  id: uuid("id").primaryKey(),
  role: text("role").notNull(),
  name: text("name").notNull(),
  /** A frozen account may read but not move money. */
  frozen: boolean("frozen").notNull().default(false),
  /** The verification tier whose risk rules apply (api/risk/rules.ts); operators change it. */
  tier: text("tier").notNull().default("basic"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** API keys, stored as SHA-256 of a 256-bit random key (shown once at creation). */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id").notNull(),
    keyHash: text("key_hash").notNull(),
    prefix: text("prefix").notNull(),
    role: text("role").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("api_keys_hash").on(t.keyHash), index("api_keys_user").on(t.userId)],
);

/**
 * Opaque bearer session tokens (wallet UI, Sign-In with Ethereum), stored hashed, with expiry. A
 * session made from an API key names it (`parent_key_id`) and authenticates only while that key is
 * active: revoking the key ends its sessions at once, in every API process (checked on each request).
 * A SIWE session names the wallet whose signature opened it instead.
 */
export const apiSessions = pgTable(
  "api_sessions",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    /** The API key the session was exchanged for; null for a Sign-In with Ethereum session. */
    parentKeyId: uuid("parent_key_id"),
    /** The self-custody wallet whose SIWE signature opened the session; null for a key's session. */
    walletId: uuid("wallet_id"),
    /** How it was opened: api_key, siwe, password, passkey (null: before issue 14, told by the ids). */
    method: text("method"),
    /** Where it was opened from, for the session list and the risk rules' new-device check. */
    ip: text("ip"),
    userAgent: text("user_agent"),
    deviceHash: text("device_hash"),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("api_sessions_hash").on(t.tokenHash),
    index("api_sessions_user").on(t.userId),
    index("api_sessions_parent_key").on(t.parentKeyId),
  ],
);

/**
 * Wallets: custodial (key generated here, AES-256-GCM encrypted under the key-encryption key,
 * wallet id as associated data) or self-custody (address proved by a SIWE signature).
 */
export const wallets = pgTable(
  "wallets",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id").notNull(),
    kind: text("kind").notNull(),
    address: text("address").notNull(),
    /** iv ‖ tag ‖ ciphertext, base64; null for self-custody wallets. */
    encryptedKey: text("encrypted_key"),
    seq: bigint("seq", { mode: "bigint" }).generatedAlwaysAsIdentity(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("wallets_address").on(t.address), index("wallets_user").on(t.userId, t.seq)],
);

/** Statuses of a movement the door accepted and has not handed to the relayer yet: they reserve the sender's funds. */
export const reservingStatuses = ["pending", "held"] as const;

/**
 * The predicates of money_movements' partial indexes (migration 0010), for the index and for the statements
 * that must use it: a plan may use a partial index only when the statement's own text implies its predicate,
 * so the statuses are written as literals, never as parameters (a parameter hides them from every generic plan).
 */
export const isReserving = (status: SQLWrapper): SQL =>
  sql`${status} IN (${sql.raw(reservingStatuses.map((s) => `'${s}'`).join(", "))})`;
/** A movement still `pending` at the door (see {@link isReserving}). */
export const isPendingAtDoor = (status: SQLWrapper): SQL => sql`${status} = 'pending'`;

/** Every money movement accepted by submitMoneyMovement, before and after the relayer takes it. */
export const moneyMovements = pgTable(
  "money_movements",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id").notNull(),
    /** The principal's wallet the movement belongs to; null for treasury payouts (operators hold no wallet). */
    walletId: uuid("wallet_id"),
    kind: text("kind").notNull(),
    from: text("from_address").notNull(),
    to: text("to_address").notNull(),
    token: text("token").notNull(),
    amount: amount("amount").notNull(),
    /** EIP-3009 nonce (or payment id) that makes the movement unique on chain. */
    nonce: text("nonce").notNull(),
    status: text("status").notNull(),
    relayId: text("relay_id"),
    /**
     * The signed relay request exactly as prepared (and its deadline): a retry of a movement the queue
     * refused re-queues this, never a newly signed one — the first job may exist after all (a lost
     * reply), and BullMQ keeps whichever request came first under the relay id.
     */
    relayRequest: jsonb("relay_request"),
    relayDeadline: timestamp("relay_deadline", { withTimezone: true }),
    seq: bigint("seq", { mode: "bigint" }).generatedAlwaysAsIdentity(),
    details: jsonb("details").notNull().default({}),
    /** The risk engine's decision: decision, reason codes, score and factors (api/risk/); null before it. */
    risk: jsonb("risk"),
    /** Originator and beneficiary (IVMS101-shaped) for a transfer above the travel-rule threshold. */
    travelRule: jsonb("travel_rule"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("money_movements_user").on(t.userId, t.seq),
    // The risk engine's read of whether the user paid a recipient before. (Its windows are counted in Redis:
    // the (user_id, created_at) index they once read went with migration 0010.)
    index("money_movements_user_to").on(t.userId, t.to),
    uniqueIndex("money_movements_nonce").on(t.from, t.nonce),
    // A wallet's movements newest first, and the movements of the relays still open (pending balances).
    index("money_movements_wallet").on(t.walletId, t.seq),
    index("money_movements_relay").on(t.relayId),
    // What a sender's unfinished movements reserve (available-balance.ts), read on every movement: only the
    // few rows not yet handed to the relayer, however many movements the sender made (issue 17).
    index("money_movements_unfinished").on(t.from, t.userId).where(isReserving(t.status)),
    // A wallet's movements still at the door, listed with its balances (pending-movements.ts).
    index("money_movements_wallet_pending").on(t.walletId).where(isPendingAtDoor(t.status)),
  ],
);

/**
 * Merchant webhook endpoints; secrets are kept (several while one rotates) to sign deliveries. A
 * disabled endpoint is kept (with its delivery log) but receives nothing.
 */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id").notNull(),
    url: text("url").notNull(),
    secrets: jsonb("secrets").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    seq: bigint("seq", { mode: "bigint" }).generatedAlwaysAsIdentity(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("webhook_endpoints_user").on(t.userId, t.seq)],
);

/** One row per delivery attempt outcome of an event to an endpoint. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey(),
    endpointId: uuid("endpoint_id").notNull(),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    status: text("status").notNull(),
    responseStatus: bigint("response_status", { mode: "number" }),
    attempts: bigint("attempts", { mode: "number" }).notNull().default(0),
    seq: bigint("seq", { mode: "bigint" }).generatedAlwaysAsIdentity(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_event").on(t.endpointId, t.eventId),
    index("webhook_deliveries_endpoint").on(t.endpointId, t.seq),
  ],
);

/**
 * Merchants' payment requests and the PaymentEscrow terms the API fixed for each (operator, merchant,
 * token, maxAmount, expiries, fee bounds, salt; the payer is filled in when a payer pays, and with it
 * the payment id — the EIP-712 hash of the complete terms).
 */
export const paymentRequests = pgTable(
  "payment_requests",
  {
    id: uuid("id").primaryKey(),
    merchantUserId: uuid("merchant_user_id").notNull(),
    merchantWalletId: uuid("merchant_wallet_id").notNull(),
    reference: text("reference").notNull(),
    amount: amount("amount").notNull(),
    /** authorize (capture later) or charge (authorize + capture in one call). */
    captureMode: text("capture_mode").notNull(),
    /** open (waiting for a payer) or paid (a payer's authorization was queued). */
    status: text("status").notNull(),
    /** PaymentTerms as decimal strings and checksummed addresses; payer is the zero address until paid. */
    terms: jsonb("terms").notNull(),
    paymentId: text("payment_id"),
    payerUserId: uuid("payer_user_id"),
    payerWalletId: uuid("payer_wallet_id"),
    seq: bigint("seq", { mode: "bigint" }).generatedAlwaysAsIdentity(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("payment_requests_reference").on(t.merchantUserId, t.reference),
    uniqueIndex("payment_requests_payment_id").on(t.paymentId),
    index("payment_requests_merchant").on(t.merchantUserId, t.seq),
  ],
);

/** Settlement payout batches: each batch id once (the contract refuses a replay too). */
export const payoutBatches = pgTable(
  "payout_batches",
  {
    id: uuid("id").primaryKey(),
    batchId: text("batch_id").notNull(),
    requestedBy: uuid("requested_by").notNull(),
    token: text("token").notNull(),
    total: amount("total").notNull(),
    items: jsonb("items").notNull(),
    movementId: uuid("movement_id"),
    relayId: text("relay_id"),
    seq: bigint("seq", { mode: "bigint" }).generatedAlwaysAsIdentity(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("payout_batches_batch_id").on(t.batchId)],
);
