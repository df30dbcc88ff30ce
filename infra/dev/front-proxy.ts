/**
 * The front door of `pnpm dev`: a small HTTP proxy on 127.0.0.1:PORT in front of `wrangler dev`
 * (which listens on a private port), doing locally what Cloudflare's edge does in production:
 *
 * - `cf-connecting-ip` is set from the TCP connection's address, replacing any the client sent.
 *   On Cloudflare the edge overwrites this header, so IP-keyed limits (the operator API) are
 *   sound there; `wrangler dev` alone keeps a client's own header, so locally anyone could pick a
 *   fresh address per request and never be limited.
 * - A request that declares a body larger than the gateway accepts anywhere (MAX_DECLARED_BYTES)
 *   is answered `413` at once, in the platform's error shape, without reading it. The gateway
 *   refuses such a declared length before reading too, but `wrangler dev` wraps every worker in a
 *   middleware that first waits to drain the request body (wrangler's
 *   templates/middleware/middleware-ensure-req-body-drained.ts): a body that never arrives (a
 *   Content-Length of 99,999,999,999 with 2 bytes) would get no response at all. Cloudflare's
 *   edge refuses bodies over its plan limit itself.
 *
 * Everything else passes through unchanged and unbuffered, streamed responses (SSE) included.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import { RETRIEVAL_LIMITS } from "@crispy/contracts";

/** The largest body the gateway accepts on any route (a 10 MiB upload). */
export const MAX_DECLARED_BYTES = RETRIEVAL_LIMITS.maxUploadBytes;

function tooLarge(res: http.ServerResponse): void {
  const requestId = randomUUID();
  const body = JSON.stringify({
    error: {
      code: "payload_too_large",
      message: `request body exceeds the limit of ${MAX_DECLARED_BYTES} bytes`,
      requestId,
      details: { limitBytes: MAX_DECLARED_BYTES },
    },
  });
  res.writeHead(413, { "content-type": "application/json", "x-request-id": requestId, connection: "close" });
  res.end(body);
}

/** Starts the proxy on 127.0.0.1:`port`, forwarding to 127.0.0.1:`target`. */
export function startFrontProxy(port: number, target: number): Promise<http.Server> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (!Number.isFinite(declared) || declared > MAX_DECLARED_BYTES) {
      tooLarge(res);
      req.destroy();
      return;
    }
    const headers = { ...req.headers, "cf-connecting-ip": (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "") };
    const upstream = http.request(
      { host: "127.0.0.1", port: target, method: req.method, path: req.url, headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`pnpm dev: the local mesh did not answer (${error.message})`);
    });
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
