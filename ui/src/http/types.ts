/** The API's JSON as the app reads it (the OpenAPI document at /docs/json is the reference). */

export type Page<T> = { items: T[]; nextCursor: string | null };

export type Wallet = { id: string; kind: "custodial" | "self_custody"; address: string; createdAt: string };

export type Balance = { token: string; balance: string; lastChangeBlock: string };

export type Movement = {
  id: string;
  kind: string;
  from: string;
  to: string;
  token: string;
  amount: string;
  status: string;
  relayId: string | null;
  transactionHash: string | null;
  createdAt: string;
};

export type HistoryItem = {
  blockNumber: string;
  blockTimestamp: string;
  transactionHash: string;
  logIndex: number;
  token: string;
  kind: string;
  reference: string | null;
  counterparty: string;
  amount: string;
  balanceAfter: string;
};

export type WalletSnapshot = {
  walletId: string;
  indexedHead: string | null;
  balances: Balance[];
  movements: Movement[];
  history?: HistoryItem[];
};

export type TypedData = {
  domain: { name: string; version: string; chainId: number; verifyingContract: string };
  types: Record<string, { name: string; type: string }[]>;
  primaryType: string;
  message: Record<string, string | number>;
};

export type PaymentState = {
  event: string;
  status: string;
  held: string;
  captured: string;
  refunded: string;
  blockNumber: string;
  transactionHash: string;
};

export type PaymentRequest = {
  id: string;
  merchantWalletId: string;
  reference: string;
  amount: string;
  captureMode: string;
  status: string;
  paymentId: string | null;
  payerWalletId: string | null;
  expiresAt: number;
  refundExpiresAt: number;
  terms: { merchant: string; payer: string; token: string; maxAmount: string; operator: string };
  payment: PaymentState | null;
  history: PaymentState[];
  pending: { id: string; kind: string; amount: string; status: string; transactionHash: string | null }[];
  createdAt: string;
};

export type WebhookEndpoint = { id: string; url: string; createdAt: string; secret?: string };
export type Delivery = {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  responseStatus: number | null;
  attempts: number;
  createdAt: string;
};

export type Relay = {
  relayId: string;
  kind: string;
  status: string;
  requestedBy: string;
  transactionHash: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: string;
  updatedAt: string;
  transitions: { status: string; at: string; transactionHash: string | null }[];
};

export type Payout = {
  id: string;
  batchId: string;
  total: string;
  status: string;
  error: string | null;
  transactionHash: string | null;
  items: { walletId: string | null; merchant: string; amount: string; reference: string }[];
  createdAt: string;
};

export type User = { id: string; role: string; name: string; frozen: boolean; createdAt: string };
