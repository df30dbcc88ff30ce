/**
 * vitest globalSetup: a real HTTP server on 127.0.0.1 (a free port) for the HTTP tool tests, which
 * reach it through the tools worker's local-dev loopback exception (HTTP_TOOLS_LOOPBACK "allow").
 * Its port is handed to the tests as `inject("toolServerPort")`.
 *
 * - `/echo` (any method): `{ method, path, query, body, authorization, apiKey, userAgent }` — what
 *   arrived, so a test can see the input and whether the secret was sent
 * - `/slow`: answers nothing for 10 s (a tool must be cut at its timeout long before)
 * - `/big`: streams 2 MiB of JSON-ish text without a content-length; `/big?declared=1` declares it
 * - `/redirect-private`: 302 to http://169.254.169.254/latest/meta-data (never followed)
 * - `/redirect-echo`: 302 to /echo on the same origin; `/redirect-cross`: to /echo on
 *   http://localhost:<port> (another origin)
 * - `/fail`: 500 with a short body
 */
import { createServer, type Server } from "node:http";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    toolServerPort: number;
  }
}

const BIG_BYTES = 2 * 1024 * 1024;
let server: Server | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = createServer((request, response) => {
    let port = 0;
    const address = server!.address();
    if (address && typeof address === "object") port = address.port;
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    request.on("end", () => {
      switch (url.pathname) {
        case "/echo": {
          let parsed: unknown = null;
          try {
            parsed = body === "" ? null : JSON.parse(body);
          } catch {
            parsed = body;
          }
          response.setHeader("content-type", "application/json");
          response.end(
            JSON.stringify({
              method: request.method,
              path: url.pathname,
              query: Object.fromEntries([...url.searchParams.keys()].map((k) => [k, url.searchParams.getAll(k)])),
              body: parsed,
              authorization: request.headers.authorization ?? null,
              apiKey: request.headers["x-api-key"] ?? null,
              userAgent: request.headers["user-agent"] ?? null,
            }),
          );
          return;
        }
        case "/slow": {
          const timer = setTimeout(() => response.end("{}"), 10_000);
          response.on("close", () => clearTimeout(timer));
          return;
        }
        case "/big": {
          response.setHeader("content-type", "text/plain");
          if (url.searchParams.has("declared")) response.setHeader("content-length", String(BIG_BYTES));
          const chunk = "x".repeat(64 * 1024);
          let sent = 0;
          const write = () => {
            while (sent < BIG_BYTES) {
              sent += chunk.length;
              if (!response.write(chunk)) {
                response.once("drain", write);
                return;
              }
            }
            response.end();
          };
          response.on("error", () => undefined);
          write();
          return;
        }
        case "/redirect-private":
          response.writeHead(302, { location: "http://169.254.169.254/latest/meta-data" });
          response.end();
          return;
        case "/redirect-echo":
          response.writeHead(302, { location: `/echo${url.search}` });
          response.end();
          return;
        case "/redirect-cross":
          response.writeHead(307, { location: `http://localhost:${port}/echo${url.search}` });
          response.end();
          return;
        case "/fail":
          response.writeHead(500, { "content-type": "text/plain" });
          response.end("upstream exploded");
          return;
        default:
          response.writeHead(404);
          response.end("not found");
      }
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("tool server has no port");
  project.provide("toolServerPort", address.port);
}

export async function teardown(): Promise<void> {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
