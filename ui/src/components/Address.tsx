import { useState } from "preact/hooks";

import { shorten } from "../core/format.ts";

/** An address or hash, shortened, with the whole value in a copy button (and a tooltip). */
export function Address({ value, label = "address", keep }: { value: string; label?: string; keep?: number }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // Clipboard refused (insecure context, permissions): select the text for a manual copy instead.
      const range = document.createRange();
      const code = document.getElementById(`addr-${value}`);
      if (code) {
        range.selectNodeContents(code);
        getSelection()?.removeAllRanges();
        getSelection()?.addRange(range);
      }
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <span class="address">
      <code id={`addr-${value}`} title={value} data-full={value}>
        {shorten(value, keep)}
      </code>
      <button type="button" class="icon" onClick={copy} aria-label={`Copy ${label} ${value}`}>
        {copied ? "Copied" : "Copy"}
      </button>
    </span>
  );
}
