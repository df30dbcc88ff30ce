/**
 * vitest globalSetup: a real HTTP server on 127.0.0.1 that tenant-defined HTTP tools call during
 * the gateway's tests (the tools worker's local-dev loopback exception lets them reach it). Its
 * port is handed to the tests as `inject("toolServerPort")`.
 *
 * - `/weather?city=…` (GET) or POST `{ city }`: `{ city, tempC, auth }` (auth: the Authorization
 *   header it got, so a test can see the secret arrived)
 * - `/slow`: answers after 10 s (tools must be cut at their timeout long before)
 */
import { createServer, type Server } from "node:http";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    toolServerPort: number;
  }
}

let server: Server | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    request.on("end", () => {
      if (url.pathname === "/slow") {
        const timer = setTimeout(() => response.end("{}"), 10_000);
        response.on("close", () => clearTimeout(timer));
        return;
      }
      if (url.pathname === "/weather") {
        const input = body ? (JSON.parse(body) as { city?: string }) : { city: url.searchParams.get("city") ?? "" };
        response.setHeader("content-type", "application/json");
        response.end(JSON.stringify({ city: input.city, tempC: 21, auth: request.headers.authorization ?? null }));
        return;
      }
      response.statusCode = 404;
      response.end("not found");
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("tool server has no port");
  project.provide("toolServerPort", address.port);
}

export async function teardown(): Promise<void> {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
