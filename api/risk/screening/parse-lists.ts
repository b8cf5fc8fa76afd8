/**
 * Screening lists from their published formats — pure. OFAC's SDN list (sdn.xml: each
 * `<sdnEntry>` with its `<uid>`, names and an `<idList>` whose `<id>` of `<idType>Digital Currency
 * Address - ETH</idType>` carries the address in `<idNumber>`; SDN_ADVANCED's `<Feature>`s of that
 * type are read the same way) and a plain CSV (`address[,name[,uid]]`, an optional header line).
 * Only what names an EVM address is kept; everything else is counted as skipped.
 */
import { isAddress } from "viem";

import { ValidationError } from "../../../lib/errors/base.ts";

/** One denylisted address as parsed. */
export type ScreeningListEntry = { address: string; entryUid: string | null; entryName: string | null };

export type ParsedList = { entries: ScreeningListEntry[]; skipped: number };

const ETH_FEATURE = "Digital Currency Address - ETH";

const decode = (text: string) =>
  text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&")
    .trim();
const tag = (xml: string, name: string): string | null => {
  const match = new RegExp(`<(?:\\w+:)?${name}\\b[^>]*>([\\s\\S]*?)</(?:\\w+:)?${name}>`).exec(xml);
  return match ? decode(match[1]!) : null;
};
const all = (xml: string, name: string): string[] =>
  [...xml.matchAll(new RegExp(`<(?:\\w+:)?${name}\\b[^>]*>([\\s\\S]*?)</(?:\\w+:)?${name}>`, "g"))].map((m) => m[1]!);

/**
 * Parses OFAC SDN XML.
 * @throws ValidationError SCREENING_LIST_INVALID when the document holds no sdnEntry
 */
export function parseOfacSdnXml(xml: string): ParsedList {
  const sdnEntries = all(xml, "sdnEntry");
  if (sdnEntries.length === 0) {
    throw new ValidationError("SCREENING_LIST_INVALID", "No <sdnEntry> found: not an OFAC SDN XML document");
  }
  const entries: ScreeningListEntry[] = [];
  let skipped = 0;
  for (const entry of sdnEntries) {
    const uid = tag(entry, "uid");
    const name = [tag(entry, "firstName"), tag(entry, "lastName")].filter(Boolean).join(" ") || null;
    // idList/id in sdn.xml; a Feature in the advanced format carries the same type and value.
    for (const id of [...all(entry, "id"), ...all(entry, "Feature")]) {
      const type = tag(id, "idType") ?? tag(id, "FeatureType");
      if (type !== ETH_FEATURE) continue;
      const value = tag(id, "idNumber") ?? tag(id, "VersionDetail");
      if (value && isAddress(value, { strict: false })) {
        entries.push({ address: value.toLowerCase(), entryUid: uid, entryName: name });
      } else skipped += 1;
    }
  }
  return { entries, skipped };
}

/**
 * Parses a CSV of `address[,name[,uid]]` lines; a first line starting with `address` is a header.
 * @throws ValidationError SCREENING_LIST_INVALID naming the first line that is no address
 */
export function parseScreeningCsv(csv: string): ParsedList {
  const entries: ScreeningListEntry[] = [];
  const lines = csv.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [address, name, uid] = line.split(",").map((cell) => cell.trim().replace(/^"|"$/g, ""));
    if (index === 0 && address!.toLowerCase() === "address") continue;
    if (!address || !isAddress(address, { strict: false })) {
      throw new ValidationError("SCREENING_LIST_INVALID", `Line ${index + 1} is not an address`, {
        details: { line: index + 1 },
      });
    }
    entries.push({ address: address.toLowerCase(), entryName: name || null, entryUid: uid || null });
  }
  return { entries, skipped: 0 };
}
