import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does with one JSON-RPC call. */
export type ProxyFault =
  /** Forward it and return the answer. */
  | "pass"
  /** Answer a JSON-RPC error without forwarding (a node refusing it). */
  | "error"
  /** Close the connection without forwarding (a request lost on the way). */
  | "drop-before"
  /** Forward it, then close the connection without answering (an answer lost on the way back). */
  | "drop-after"
  /** Forward it, then answer HTTP 502 (a gateway that lost the node's answer). */
  | "bad-gateway-after";

export type ProxyPolicy = {
  /** Decides the fault for each call (a batch is decided by its first call). */
  fault: (call: { method: string; params?: unknown }) => ProxyFault;
  /** Added before forwarding, in milliseconds. */
  latencyMs?: () => number;
  /** Rewrites a forwarded call's result (a node serving wrong data); single calls only. */
  rewrite?: (call: { method: string; params?: unknown }, result: unknown) => unknown;
};

export type JsonRpcProxy = {
  url: string;
  /** Replaces the policy (faults start or stop at once). */
  setPolicy: (policy: ProxyPolicy) => void;
  /** Calls seen per fault, for assertions that the faults really happened. */
  counts: () => Record<ProxyFault, number>;
  close: () => Promise<void>;
};

export const passEverything: ProxyPolicy = { fault: () => "pass" };

/**
 * A loopback HTTP JSON-RPC proxy in front of `target` that injects latency, errors and drops
 * before or after forwarding — the faults a node behind a real network shows, on 127.0.0.1 only.
 */
export async function startJsonRpcProxy(target: string, policy: ProxyPolicy = passEverything): Promise<JsonRpcProxy> {
  let current = policy;
  const counts: Record<ProxyFault, number> = {
    pass: 0,
    error: 0,
    "drop-before": 0,
    "drop-after": 0,
    "bad-gateway-after": 0,
  };
  const targetUrl = new URL(target);
  const forward = (body: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const outgoing = httpRequest(
        {
          host: targetUrl.hostname,
          port: targetUrl.port,
          path: targetUrl.pathname,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () =>
            resolve({ status: response.statusCode ?? 500, body: Buffer.concat(chunks).toString() }),
          );
          response.on("error", reject);
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    let first: { id?: unknown; method: string; params?: unknown };
    try {
      const parsed = JSON.parse(body) as typeof first | (typeof first)[];
      first = Array.isArray(parsed) ? parsed[0]! : parsed;
    } catch {
      response.writeHead(400).end();
      return;
    }
    const fault = current.fault(first);
    counts[fault] += 1;
    const latency = current.latencyMs?.() ?? 0;
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    if (fault === "drop-before") return void request.socket.destroy();
    if (fault === "error") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({ jsonrpc: "2.0", id: first.id ?? null, error: { code: -32603, message: "injected fault" } }),
      );
      return;
    }
    const answer = await forward(body);
    if (fault === "drop-after") return void request.socket.destroy();
    if (fault === "bad-gateway-after") {
      response.writeHead(502, { "content-type": "text/plain" }).end("bad gateway");
      return;
    }
    let out = answer.body;
    const rewrite = current.rewrite;
    if (rewrite && !body.trimStart().startsWith("[")) {
      const parsed = JSON.parse(answer.body) as { result?: unknown };
      if ("result" in parsed) out = JSON.stringify({ ...parsed, result: rewrite(first, parsed.result) });
    }
    response.writeHead(answer.status, { "content-type": "application/json" }).end(out);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => request.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setPolicy: (next) => (current = next),
    counts: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
