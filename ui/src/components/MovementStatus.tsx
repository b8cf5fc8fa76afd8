/** Where a movement stands, in words, with a visual step (pending → confirmed → in the ledger). */
const WORDS: Record<string, { text: string; tone: "wait" | "good" | "bad" }> = {
  pending: { text: "Pending", tone: "wait" },
  queued: { text: "Queued", tone: "wait" },
  submitted: { text: "Sent to the chain", tone: "wait" },
  confirmed: { text: "Confirmed on chain", tone: "wait" },
  indexed: { text: "Settled (in the ledger)", tone: "good" },
  failed: { text: "Failed — nothing moved", tone: "bad" },
  dead: { text: "Not sent — nothing moved", tone: "bad" },
  rejected: { text: "Refused — nothing moved", tone: "bad" },
  held: { text: "Held for review", tone: "wait" },
};

export function MovementStatus({ status }: { status: string }) {
  const words = WORDS[status] ?? { text: status, tone: "wait" as const };
  return (
    <span class={`badge ${words.tone}`} data-status={status}>
      {words.text}
    </span>
  );
}
