/**
 * The platform as an MCP server (`POST /mcp`) against a running mesh, with the MCP SDK's own
 * Client and StreamableHTTPClientTransport, as an MCP client app would use it:
 *
 * 1. acme's key lists its tools (built-ins with schemas, and an HTTP tool registered here that
 *    calls a small server this script starts on 127.0.0.1), calls `current_time`, the HTTP tool,
 *    and `search_documents` over a document ingested here (its citations: title, url, document
 *    id), and finds the calls in `GET /v1/tools/executions` with caller "mcp";
 * 2. the other tenant's key never sees acme's tools: refused outright where the tenant has tools
 *    off (globex), and without acme's HTTP tool in its list otherwise; and refused for acme;
 * 3. the round trip of N sequential `tools/call current_time` (p50/p95 ms). Calls the key's rate
 *    limit refuses (429) are retried after Retry-After and left out of the figures.
 *
 * Used by the CI smoke test; by hand against `pnpm dev`:
 *   pnpm exec tsx infra/ci/mcp-check.ts [http://127.0.0.1:8787]   (keys from .dev/keys.json)
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

const ROUND_TRIPS = 50;

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`mcp: ${message}`);
}

/** How many requests the key's rate limit refused (each was retried after its Retry-After). */
const throttled = { count: 0 };

/** fetch that waits out a 429 (Retry-After) and sends the request again. */
async function patientFetch(url: string | URL, init?: RequestInit): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, init);
    if (response.status !== 429 || attempt === 10) return response;
    throttled.count += 1;
    await response.body?.cancel();
    const seconds = Number(response.headers.get("retry-after")) || 1;
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  }
}

async function connect(baseUrl: string, apiKey: string, headers: Record<string, string> = {}): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${apiKey}`, ...headers } },
    fetch: patientFetch,
  });
  const client = new Client({ name: "crispy-mcp-check", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

async function refusal(connecting: Promise<Client>): Promise<number | null> {
  try {
    await (await connecting).close();
    return null;
  } catch (error) {
    if (error instanceof StreamableHTTPError) return error.code ?? -1;
    throw error;
  }
}

function textOf(result: CallToolResult): string {
  return result.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");
}

/** A tiny HTTP tool on 127.0.0.1 answering `{ city, tempC }`; resolves to its URL and a close function. */
async function weatherServer(): Promise<{ url: string; close: () => void }> {
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    request.on("end", () => {
      const city = (JSON.parse(body || "{}") as { city?: string }).city ?? "?";
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ city, tempC: 19 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("weather server has no port");
  return { url: `http://127.0.0.1:${address.port}/weather`, close: () => server.close() };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function roundTrips(client: Client): Promise<void> {
  const samples: number[] = [];
  for (let attempt = 0; samples.length < ROUND_TRIPS && attempt < 3 * ROUND_TRIPS; attempt++) {
    const refusedBefore = throttled.count;
    const started = performance.now();
    const result = (await client.callTool({ name: "current_time", arguments: {} })) as CallToolResult;
    const ms = performance.now() - started;
    check(!result.isError, `current_time failed: ${textOf(result)}`);
    if (throttled.count === refusedBefore) samples.push(ms);
  }
  check(samples.length === ROUND_TRIPS, `only ${samples.length} of ${ROUND_TRIPS} calls got through the rate limit`);
  const sorted = [...samples].sort((x, y) => x - y);
  console.log(
    `mcp: ${ROUND_TRIPS} sequential tools/call current_time → p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms (${throttled.count} rate-limited requests retried, not counted)`,
  );
}

export async function mcpCheck(baseUrl: string, keys: Record<string, string>): Promise<void> {
  const acmeKey = keys.acme;
  check(acmeKey, "no acme key");
  const headers = { authorization: `Bearer ${acmeKey}`, "content-type": "application/json" };
  const server = await weatherServer();
  const toolName = `mcp_weather_${Date.now()}`;
  let docId: string | undefined;
  const client = await connect(baseUrl, acmeKey);
  try {
    const created = await patientFetch(`${baseUrl}/v1/tools`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        name: toolName,
        description: "Current weather for a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        url: server.url,
      }),
    });
    check(created.status === 201, `POST /v1/tools → ${created.status} ${await created.text()}`);

    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    for (const name of ["current_time", "search_documents", toolName]) {
      check(names.includes(name), `tools/list lacks ${name}: ${names.join(", ")}`);
    }
    check(
      tools.find((tool) => tool.name === toolName)?.inputSchema.required?.includes("city"),
      "the HTTP tool's JSON Schema is not published",
    );
    console.log(`mcp: initialize + tools/list (acme) → ${tools.length} tools: ${names.join(", ")}`);

    const time = (await client.callTool({
      name: "current_time",
      arguments: { timezone: "Asia/Tokyo" },
    })) as CallToolResult;
    check(!time.isError && (time.structuredContent as { timezone?: string }).timezone === "Asia/Tokyo", textOf(time));
    const weather = (await client.callTool({ name: toolName, arguments: { city: "Porto" } })) as CallToolResult;
    check(!weather.isError && textOf(weather).includes("Porto"), `the HTTP tool's result: ${textOf(weather)}`);
    const invalid = (await client.callTool({ name: toolName, arguments: { city: 7 } })) as CallToolResult;
    check(invalid.isError && textOf(invalid).includes("city"), `a schema violation: ${textOf(invalid)}`);
    console.log("mcp: tools/call current_time, the HTTP tool, and a schema violation (isError, naming the field)");

    const word = `mcpcheck${Date.now()}`;
    const ingested = await patientFetch(`${baseUrl}/v1/documents?wait=true`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        title: "MCP check notes",
        url: "https://docs.acme.example/mcp-check",
        text: `The ${word} relay station opened in 1931 and still runs on its original turbines.`,
      }),
    });
    const job = await ingested.text();
    check(ingested.status === 200, `ingest → ${ingested.status} ${job}`);
    docId = (JSON.parse(job) as { docId: string }).docId;
    const search = (await client.callTool({
      name: "search_documents",
      arguments: { query: `When did the ${word} relay station open?` },
    })) as CallToolResult;
    const found = search.structuredContent as
      | { found: boolean; results: Array<{ title: string; url: string | null; documentId: string }> }
      | undefined;
    const cited = found?.results.find((result) => result.documentId === docId);
    check(!search.isError && found?.found && cited, `search_documents did not cite the document: ${textOf(search)}`);
    check(cited.title === "MCP check notes" && cited.url === "https://docs.acme.example/mcp-check", "citation fields");
    console.log(
      `mcp: tools/call search_documents → ${found.results.length} passages, cited "${cited.title}" (${cited.url})`,
    );

    const audit = (await (await patientFetch(`${baseUrl}/v1/tools/executions?limit=10`, { headers })).json()) as {
      items: Array<{ tool: string; caller: string }>;
    };
    check(
      audit.items.some((item) => item.tool === "search_documents" && item.caller === "mcp"),
      "the MCP calls are not in the audit",
    );
    console.log("mcp: GET /v1/tools/executions → the calls, caller mcp");

    for (const [tenant, key] of Object.entries(keys)) {
      if (tenant === "acme") continue;
      const own = await refusal(connect(baseUrl, key));
      if (own === null) {
        const other = await connect(baseUrl, key);
        const theirs = (await other.listTools()).tools.map((tool) => tool.name);
        await other.close();
        check(!theirs.includes(toolName), `${tenant}'s key lists acme's tool ${toolName}`);
        console.log(`mcp: ${tenant}'s key → its own ${theirs.length} tools, none of acme's`);
      } else {
        check(own === 403, `${tenant}'s key: expected 403 (tools off) or its own tools, got ${own}`);
        console.log(`mcp: ${tenant}'s key → 403 (tools are off for ${tenant}), so none of acme's`);
      }
      const asAcme = await refusal(connect(baseUrl, key, { "x-tenant-id": "acme" }));
      check(asAcme === 403, `${tenant}'s key naming acme: expected 403, got ${asAcme}`);
      console.log(`mcp: ${tenant}'s key naming tenant acme → 403`);
    }

    await roundTrips(client);
  } finally {
    await client.close();
    server.close();
    await patientFetch(`${baseUrl}/v1/tools/${toolName}`, { method: "DELETE", headers }).catch(() => undefined);
    if (docId)
      await patientFetch(`${baseUrl}/v1/documents/${docId}`, { method: "DELETE", headers }).catch(() => undefined);
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const url = process.argv[2] ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  const keys = JSON.parse(readFileSync(join(import.meta.dirname, "../../.dev/keys.json"), "utf8")) as Record<
    string,
    string
  >;
  mcpCheck(url, keys).catch((error: Error) => {
    console.error(`mcp check FAILED: ${error.message}`);
    process.exit(1);
  });
}
