import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

/**
 * The API's tables of issue 14: accounts' passwords and second factors, step-up challenges bound to
 * one movement, devices seen, the risk rules, screening lists, the review queue and the hash-chained
 * audit log. (Columns these features add to existing tables — a user's tier, a session's method and
 * device, a movement's risk decision — are in schema.ts beside their tables.)
 */
const at = (name: string) => timestamp(name, { withTimezone: true });

/** Email + password sign-in of a custodial user: scrypt hash with its parameters (api/auth/password-hash.ts). */
export const passwordCredentials = pgTable(
  "password_credentials",
  {
    userId: uuid("user_id").primaryKey(),
    /** Lower-cased, trimmed. */
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    createdAt: at("created_at").notNull().defaultNow(),
    updatedAt: at("updated_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("password_credentials_email").on(t.email)],
);

/**
 * A user's TOTP factor: the seed encrypted (AES-256-GCM, user id as associated data), pending until
 * confirmed by a first code; `last_time_step` is the newest time step accepted — a code of that step
 * or an older one is refused (replay), checked and advanced in one conditional UPDATE.
 */
export const totpFactors = pgTable("totp_factors", {
  userId: uuid("user_id").primaryKey(),
  secretCiphertext: text("secret_ciphertext").notNull(),
  status: text("status").notNull(),
  pendingExpiresAt: at("pending_expires_at"),
  confirmedAt: at("confirmed_at"),
  lastTimeStep: bigint("last_time_step", { mode: "number" }).notNull().default(0),
  createdAt: at("created_at").notNull().defaultNow(),
});

/** Single-use recovery codes, stored as SHA-256 (each is 60 random bits: no offline guessing worth it under the lockout). */
export const recoveryCodes = pgTable(
  "recovery_codes",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id").notNull(),
    codeHash: text("code_hash").notNull(),
    usedAt: at("used_at"),
    createdAt: at("created_at").notNull().defaultNow(),
  },
  (t) => [index("recovery_codes_user").on(t.userId), uniqueIndex("recovery_codes_hash").on(t.userId, t.codeHash)],
);

/** WebAuthn credentials (passkeys): the credential id (base64url) and COSE public key, as @simplewebauthn/server verified them. */
export const webauthnCredentials = pgTable(
  "webauthn_credentials",
  {
    id: text("id").primaryKey(),
    userId: uuid("user_id").notNull(),
    publicKey: text("public_key").notNull(),
    counter: bigint("counter", { mode: "number" }).notNull().default(0),
    transports: jsonb("transports").notNull().default([]),
    deviceType: text("device_type").notNull(),
    backedUp: boolean("backed_up").notNull().default(false),
    name: text("name").notNull(),
    /** The WebAuthn user handle given at registration (base64url); the same for all of a user's passkeys. */
    userHandle: text("user_handle").notNull(),
    createdAt: at("created_at").notNull().defaultNow(),
    lastUsedAt: at("last_used_at"),
  },
  (t) => [index("webauthn_credentials_user").on(t.userId)],
);

/**
 * Step-up challenges and the approvals they become: bound to the SHA-256 digest of one canonical
 * movement or security action; approved by a factor, then consumed once by the request they name.
 */
export const stepUpChallenges = pgTable(
  "step_up_challenges",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id").notNull(),
    purpose: text("purpose").notNull(),
    digest: text("digest").notNull(),
    canonical: jsonb("canonical").notNull(),
    /** Random bytes (hex) mixed into the WebAuthn challenge with the digest. */
    nonce: text("nonce").notNull(),
    reasons: jsonb("reasons").notNull().default([]),
    attempts: integer("attempts").notNull().default(0),
    createdAt: at("created_at").notNull().defaultNow(),
    expiresAt: at("expires_at").notNull(),
    approvedAt: at("approved_at"),
    factor: text("factor"),
    approvalTokenHash: text("approval_token_hash"),
    approvalExpiresAt: at("approval_expires_at"),
    consumedAt: at("consumed_at"),
  },
  (t) => [
    uniqueIndex("step_up_challenges_token").on(t.approvalTokenHash),
    index("step_up_challenges_user").on(t.userId),
  ],
);

/** Devices a user signed in from (the client's device id, hashed, or its user agent's hash). */
export const knownDevices = pgTable(
  "known_devices",
  {
    userId: uuid("user_id").notNull(),
    deviceHash: text("device_hash").notNull(),
    firstSeenAt: at("first_seen_at").notNull().defaultNow(),
    lastSeenAt: at("last_seen_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.deviceHash] })],
);

/** The risk rules, one row per version; the newest is in force (none: the built-in defaults, version 0). */
export const riskRuleSets = pgTable("risk_rule_sets", {
  version: integer("version").primaryKey(),
  rules: jsonb("rules").notNull(),
  createdBy: uuid("created_by"),
  createdAt: at("created_at").notNull().defaultNow(),
});

/**
 * How many of a user's movements are history to the risk engine (every one not refused: not denied,
 * declined or rejected), kept by triggers on money_movements (migration 0009) as rows are inserted,
 * change status or are deleted. So the engine reads one row, not a count that grows with the user.
 */
export const userMovementCounts = pgTable("user_movement_counts", {
  userId: uuid("user_id").primaryKey(),
  movements: bigint("movements", { mode: "number" }).notNull(),
});

/** Screening denylists: one row per (list, address), the address lower-case hex. */
export const screeningEntries = pgTable(
  "screening_entries",
  {
    list: text("list").notNull(),
    address: text("address").notNull(),
    entryUid: text("entry_uid"),
    entryName: text("entry_name"),
    source: text("source").notNull(),
    addedBy: uuid("added_by"),
    addedAt: at("added_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.list, t.address] }), index("screening_entries_address").on(t.address)],
);

/** Movements the rules held for an operator; decided once (approved → queued, rejected → declined). */
export const movementReviews = pgTable(
  "movement_reviews",
  {
    id: uuid("id").primaryKey(),
    movementId: uuid("movement_id").notNull(),
    userId: uuid("user_id").notNull(),
    status: text("status").notNull(),
    reasons: jsonb("reasons").notNull().default([]),
    expiresAt: at("expires_at"),
    decidedBy: uuid("decided_by"),
    decidedAt: at("decided_at"),
    note: text("note"),
    reason: text("reason"),
    seq: bigint("seq", { mode: "bigint" }).generatedAlwaysAsIdentity(),
    createdAt: at("created_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("movement_reviews_movement").on(t.movementId),
    index("movement_reviews_status").on(t.status, t.seq),
  ],
);

/**
 * The audit log: every privileged or security-relevant action, hash-chained — each row's hash covers
 * the previous row's hash and its own fields, so an edited, deleted, inserted or reordered row breaks
 * the chain from there on (api/audit/audit-chain.ts). `seq` is assigned by the appender under the
 * head row's lock, gap-free.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    seq: bigint("seq", { mode: "bigint" }).primaryKey(),
    id: uuid("id").notNull(),
    at: at("at").notNull(),
    actorUserId: uuid("actor_user_id"),
    actorRole: text("actor_role"),
    actorCredentialId: uuid("actor_credential_id"),
    action: text("action").notNull(),
    target: text("target"),
    outcome: text("outcome").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    details: jsonb("details").notNull().default({}),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [index("audit_log_action").on(t.action, t.seq), index("audit_log_actor").on(t.actorUserId, t.seq)],
);

/** The audit log's head (one row, id 1): the last seq and hash, so a truncated tail is detected too. */
export const auditLogHead = pgTable("audit_log_head", {
  id: integer("id").primaryKey(),
  seq: bigint("seq", { mode: "bigint" }).notNull(),
  hash: text("hash").notNull(),
});
