/**
 * Where a webhook may be delivered: an https URL on a public address. Refused — when an endpoint is
 * registered or changed, and again at every delivery, on the addresses the name resolves to then
 * (a name that resolved to a public address yesterday may point at 169.254.169.254 today: DNS
 * rebinding) — loopback, private (RFC 1918, unique-local), link-local and cloud-metadata addresses,
 * carrier-grade NAT, "this network", multicast and reserved ranges, and IPv4 hidden in IPv6
 * (mapped, NAT64). With WEBHOOK_ALLOW_LOOPBACK (local development and tests only) plain http on a
 * loopback address is allowed too; nothing else changes.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

import { ValidationError } from "../../lib/errors/base.ts";

export type WebhookUrlPolicy = { allowLoopback: boolean };

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

const forbidden = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata (169.254.169.254)
  ["172.16.0.0", 12],
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  forbidden.addSubnet(network, prefix, "ipv4");
}
// IPv4-mapped (::ffff:0:0/96) is not listed: BlockList matches every IPv4 address against it. Such an
// address is judged by the IPv4 address it carries (embeddedIpv4).
for (const [network, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128],
  ["64:ff9b::", 96], // NAT64
  ["100::", 64], // discard
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local (fd00:ec2::254 is a metadata address)
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
] as const) {
  forbidden.addSubnet(network, prefix, "ipv6");
}

/** The IPv4 address an IPv4-mapped or NAT64 IPv6 address carries, if any. */
function embeddedIpv4(address: string): string | undefined {
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return undefined;
  const [high, low] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** Whether an IP literal is a loopback address (127.0.0.0/8, ::1, or IPv4 loopback inside IPv6). */
function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const carried = family === 6 ? embeddedIpv4(address) : undefined;
  if (carried) return isLoopbackAddress(carried);
  return loopback.check(address, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Why a webhook may not be sent to `address` (an IP literal), or undefined when it may. Pure.
 * @example forbiddenAddressReason("169.254.169.254", { allowLoopback: false }) // "a link-local or metadata address"
 */
export function forbiddenAddressReason(address: string, policy: WebhookUrlPolicy): string | undefined {
  const family = isIP(address);
  if (family === 0) return "not an IP address";
  const type = family === 4 ? "ipv4" : "ipv6";
  const carried = family === 6 ? embeddedIpv4(address) : undefined;
  if (carried) return forbiddenAddressReason(carried, policy);
  if (isLoopbackAddress(address)) return policy.allowLoopback ? undefined : "a loopback address";
  if (forbidden.check(address, type)) return "a private, link-local, metadata or reserved address";
  return undefined;
}

/** An endpoint URL refused, with the reason. */
export class WebhookUrlError extends ValidationError {
  override name = "WebhookUrlError";
  constructor(reason: string) {
    super("WEBHOOK_URL_FORBIDDEN", `This webhook URL is refused: ${reason}`, { details: { reason } });
  }
}

const isLoopbackName = (hostname: string) => hostname === "localhost" || hostname.endsWith(".localhost");
const bareHost = (hostname: string) => hostname.replace(/^\[(.*)\]$/, "$1");

/**
 * Checks a URL's form: https (http only to a loopback host when loopback is allowed), no
 * credentials in it, a host. Pure.
 * @returns the parsed URL
 * @throws WebhookUrlError WEBHOOK_URL_FORBIDDEN
 */
export function parseWebhookUrl(text: string, policy: WebhookUrlPolicy): URL {
  if (!URL.canParse(text)) throw new WebhookUrlError("not a URL");
  const url = new URL(text);
  const host = bareHost(url.hostname);
  const loopbackHost = isLoopbackName(host) || isLoopbackAddress(host);
  if (url.username || url.password) throw new WebhookUrlError("credentials in the URL");
  if (!host) throw new WebhookUrlError("no host");
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:" && policy.allowLoopback && loopbackHost) return url;
  throw new WebhookUrlError("it must be https");
}

export type Lookup = (hostname: string) => Promise<{ address: string; family: number }[]>;
const systemLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * The addresses `hostname` resolves to now, every one of them allowed — or the refusal. A name whose
 * answers mix a public and a forbidden address is refused (the connection could take either).
 * @throws WebhookUrlError WEBHOOK_URL_FORBIDDEN (forbidden, or the name does not resolve)
 */
export async function resolveWebhookHost(
  hostname: string,
  policy: WebhookUrlPolicy,
  lookup: Lookup = systemLookup,
): Promise<{ address: string; family: number }[]> {
  const host = bareHost(hostname);
  if (isLoopbackName(host)) {
    if (!policy.allowLoopback) throw new WebhookUrlError("a loopback address");
    return [{ address: "127.0.0.1", family: 4 }];
  }
  let answers: { address: string; family: number }[];
  try {
    answers = isIP(host) !== 0 ? [{ address: host, family: isIP(host) }] : await lookup(host);
  } catch {
    throw new WebhookUrlError(`the host ${host} does not resolve`);
  }
  if (answers.length === 0) throw new WebhookUrlError(`the host ${host} does not resolve`);
  for (const { address } of answers) {
    const reason = forbiddenAddressReason(address, policy);
    if (reason) throw new WebhookUrlError(`${host} resolves to ${address}, ${reason}`);
  }
  return answers;
}

/**
 * Checks a URL for registration: its form, then what its host resolves to now.
 * @throws WebhookUrlError WEBHOOK_URL_FORBIDDEN
 */
export async function checkWebhookUrl(text: string, policy: WebhookUrlPolicy, lookup?: Lookup): Promise<URL> {
  const url = parseWebhookUrl(text, policy);
  await resolveWebhookHost(url.hostname, policy, lookup);
  return url;
}
