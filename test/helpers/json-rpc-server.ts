import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

import type { EIP1193Provider } from "viem";

type JsonRpcCall = { id?: unknown; method: string; params?: unknown };

export type JsonRpcServer = {
  /** http://127.0.0.1:<port>, for viem's `http()` transport or a service's RPC_URL. */
  url: string;
  close: () => Promise<void>;
};

/**
 * Serves an EIP-1193 provider (the in-process chain of `network.create()`) as HTTP JSON-RPC on
 * 127.0.0.1, so a child process can talk to the same chain as the test. Node errors keep their
 * `code`, `message` and `data` (revert data), so a client decodes them as it would from a node.
 * @returns the URL and `close`
 */
export async function serveJsonRpc(provider: EIP1193Provider): Promise<JsonRpcServer> {
  const answer = async ({ id, method, params }: JsonRpcCall) => {
    try {
      const result = await provider.request({ method, params } as never);
      return { jsonrpc: "2.0", id, result: result ?? null };
    } catch (error) {
      const { code, message, data } = error as { code?: unknown; message?: string; data?: unknown };
      return {
        jsonrpc: "2.0",
        id,
        error: { code: typeof code === "number" ? code : -32603, message: message ?? String(error), data },
      };
    }
  };
  const server = createServer((request, response) => {
    readBody(request)
      .then(async (body) => {
        const parsed = JSON.parse(body) as JsonRpcCall | JsonRpcCall[];
        const reply = Array.isArray(parsed) ? await Promise.all(parsed.map(answer)) : await answer(parsed);
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify(reply));
      })
      .catch((error: unknown) => {
        response.writeHead(400, { "content-type": "application/json" });
        response.end(
          JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: (error as Error).message } }),
        );
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
