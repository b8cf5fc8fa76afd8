/**
 * One webhook POST, to the address checked at this moment: the connection's DNS lookup is the
 * policy's own (webhook-url-policy.ts), so the socket goes to an address that was just judged —
 * never to one a second, unchecked resolution returns (DNS rebinding). Redirects are not followed
 * (a 3xx is a failed delivery): a redirect is another URL nobody checked.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";

import { parseWebhookUrl, resolveWebhookHost, type WebhookUrlPolicy } from "./webhook-url-policy.ts";

/**
 * POSTs `body` to `url` with `headers`.
 * @returns the response status
 * @throws WebhookUrlError when the URL or the addresses its host resolves to now are refused; a network
 *   error or timeout otherwise
 */
export async function postWebhook(
  url: string,
  {
    headers,
    body,
    timeoutMs,
    policy,
  }: { headers: Record<string, string>; body: string; timeoutMs: number; policy: WebhookUrlPolicy },
): Promise<number> {
  const target = parseWebhookUrl(url, policy);
  const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
  // Resolved (and judged) before connecting, so a refusal is reported as such, not as a socket error.
  const [first] = await resolveWebhookHost(target.hostname, policy);
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: first!.address, family: first!.family }]);
    else callback(null, first!.address, first!.family);
  };
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const request = send(
      target,
      {
        method: "POST",
        headers: { ...headers, "content-length": Buffer.byteLength(body) },
        lookup,
        timeout: timeoutMs,
        // The certificate is checked against the URL's name, not the address connected to.
        servername: target.protocol === "https:" && isIP(host) === 0 ? host : undefined,
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", reject);
    request.end(body);
  });
}
