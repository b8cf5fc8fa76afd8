import type { TypedData } from "../http/types.ts";
import { Address } from "./Address.tsx";
import { Amount } from "./Amount.tsx";
import { Time } from "./Time.tsx";

/** Names people know for the contracts and accounts typed data mentions. */
export type KnownAddresses = Record<string, string>;

const WHAT: Record<string, string> = {
  TransferWithAuthorization: "Send tokens (EIP-3009 transfer authorization)",
  ReceiveWithAuthorization: "Pay into escrow (EIP-3009 receive authorization)",
  ForwardRequest: "A call relayed on your behalf (ERC-2771)",
};

/**
 * EIP-712 typed data shown readably before the wallet signs it: what it does, the amount in token
 * units, who receives it, and the validity window in the viewer's time — then every raw field.
 */
export function TypedDataView({ typedData, known = {} }: { typedData: TypedData; known?: KnownAddresses }) {
  const m = typedData.message;
  const name = (address: unknown) =>
    typeof address === "string" ? (known[address.toLowerCase()] ?? undefined) : undefined;
  const validBefore = m.validBefore !== undefined ? Number(m.validBefore) : undefined;
  const validAfter = m.validAfter !== undefined ? Number(m.validAfter) : undefined;
  return (
    <div class="typed-data" aria-label="What you are asked to sign">
      <p class="typed-what">{WHAT[typedData.primaryType] ?? typedData.primaryType}</p>
      <dl class="facts">
        {m.value !== undefined ? (
          <>
            <dt>Amount</dt>
            <dd data-testid="typed-amount">
              <Amount units={String(m.value)} />
            </dd>
          </>
        ) : null}
        {m.from !== undefined ? (
          <>
            <dt>From</dt>
            <dd>
              {name(m.from) ? `${name(m.from)} ` : null}
              <Address value={String(m.from)} label="sender" />
            </dd>
          </>
        ) : null}
        {m.to !== undefined ? (
          <>
            <dt>To</dt>
            <dd data-testid="typed-recipient">
              {name(m.to) ? <strong>{name(m.to)} </strong> : null}
              <Address value={String(m.to)} label="recipient" />
            </dd>
          </>
        ) : null}
        {validAfter !== undefined && validAfter > 0 ? (
          <>
            <dt>Valid from</dt>
            <dd>
              <Time value={validAfter} />
            </dd>
          </>
        ) : null}
        {validBefore !== undefined ? (
          <>
            <dt>Expires</dt>
            <dd data-testid="typed-expiry">
              <Time value={validBefore} />
            </dd>
          </>
        ) : null}
        {m.deadline !== undefined ? (
          <>
            <dt>Expires</dt>
            <dd>
              <Time value={Number(m.deadline)} />
            </dd>
          </>
        ) : null}
        <dt>Token contract</dt>
        <dd>
          {typedData.domain.name} v{typedData.domain.version} on chain {typedData.domain.chainId}{" "}
          <Address value={typedData.domain.verifyingContract} label="token contract" />
        </dd>
      </dl>
      <details>
        <summary>Every field, as your wallet will show it</summary>
        <pre>{JSON.stringify(typedData, null, 2)}</pre>
      </details>
    </div>
  );
}
