/**
 * Smoke test of the README's first command: starts `pnpm dev` on spare ports, waits for the
 * printed dev keys, checks /health, an authenticated route (200), the same route without a key
 * (401) and with the other tenant's key (403), the official `openai` client against the
 * OpenAI-compatible API (openai-check.ts), tool calling — an HTTP tool registered and called by
 * the local model in a chat turn, and tool round trips with the openai client, the Vercel AI SDK
 * and LangChain (tools-check.ts) — the platform as an MCP server with the MCP SDK's client
 * (mcp-check.ts), OpenAI embeddings with the openai client and the Vercel AI SDK
 * (embeddings-check.ts), speech with the openai client (speech-check.ts), the usage console in
 * headless Chromium (console-check.ts), and the chat widget on its demo page in headless Chromium
 * with acme's publishable key (widget-check.ts) — then stops the mesh (its whole process group).
 */
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { docsCheck } from "../../workers/gateway/scripts/docs-check";
import { consoleCheck } from "./console-check";
import { embeddingsCheck } from "./embeddings-check";
import { mcpCheck } from "./mcp-check";
import { openAiCheck } from "./openai-check";
import { speechCheck } from "./speech-check";
import { toolsCheck } from "./tools-check";
import { widgetCheck } from "./widget-check";

const root = join(import.meta.dirname, "../..");
const port = Number(process.env.SMOKE_PORT ?? 8799);
const url = `http://127.0.0.1:${port}`;
const keysPath = join(root, ".dev/keys.json");

function expectStatus(label: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`${label}: expected ${expected}, got ${actual}`);
  console.log(`smoke: ${label} → ${actual}`);
}

/** The status line of a raw HTTP request, or "no response" after `ms`. */
function rawStatus(request: string, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let text = "";
    const done = (value: string) => {
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done("no response"), ms);
    socket.on("data", (chunk) => {
      text += chunk;
      if (text.includes("\r\n")) {
        clearTimeout(timer);
        done(text.slice(0, text.indexOf("\r\n")));
      }
    });
    socket.on("error", (error) => done(`error: ${error.message}`));
  });
}

async function main(): Promise<void> {
  rmSync(keysPath, { force: true });
  const dev = spawn("pnpm", ["dev"], {
    cwd: root,
    env: { ...process.env, PORT: String(port), INSPECTOR_PORT: String(port + 1000) },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  dev.stdout.on("data", (chunk) => (output += chunk));
  dev.stderr.on("data", (chunk) => (output += chunk));
  const stop = () => {
    try {
      process.kill(-dev.pid!, "SIGTERM");
    } catch {}
  };
  try {
    const deadline = Date.now() + 180_000;
    while (!(existsSync(keysPath) && output.includes("dev key:"))) {
      if (dev.exitCode !== null) throw new Error(`pnpm dev exited early (code ${dev.exitCode})`);
      if (Date.now() > deadline) throw new Error("pnpm dev did not print dev keys within 180 s");
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const keys = JSON.parse(readFileSync(keysPath, "utf8")) as Record<string, string>;
    expectStatus("GET /health", (await fetch(`${url}/health`)).status, 200);
    const tenant = await fetch(`${url}/v1/tenant`, { headers: { authorization: `Bearer ${keys.acme}` } });
    expectStatus("GET /v1/tenant with acme's dev key", tenant.status, 200);
    const body = (await tenant.json()) as { id: string };
    if (body.id !== "acme") throw new Error(`GET /v1/tenant answered tenant ${body.id}, expected acme`);
    expectStatus(
      "GET /v1/tenant without a key",
      (await fetch(`${url}/v1/tenant`, { headers: { "x-tenant-id": "acme" } })).status,
      401,
    );
    expectStatus(
      "GET /v1/tenant with globex's key for acme",
      (await fetch(`${url}/v1/tenant`, { headers: { "x-tenant-id": "acme", authorization: `Bearer ${keys.globex}` } }))
        .status,
      403,
    );
    const mesh = (await (
      await fetch(`${url}/v1/mesh`, { headers: { authorization: `Bearer ${keys.globex}` } })
    ).json()) as { ok: boolean };
    if (!mesh.ok) throw new Error(`GET /v1/mesh reports an unreachable worker: ${JSON.stringify(mesh)}`);
    console.log("smoke: GET /v1/mesh → every internal worker answered");
    // A body declared far larger than it is gets a 413 at once, not silence.
    const declared = await rawStatus(
      "POST /v1/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\nab",
      5_000,
    );
    if (!declared.startsWith("HTTP/1.1 413"))
      throw new Error(`a 99,999,999,999-byte declared body: expected 413, got ${declared}`);
    console.log(`smoke: Content-Length 99,999,999,999 with 2 bytes → ${declared}`);
    // The client address comes from the socket: a new made-up cf-connecting-ip per request does not
    // escape the operator API's per-IP limit (burst 30).
    let limited = 0;
    for (let i = 0; i < 40; i++) {
      const response = await fetch(`${url}/admin/tenants/acme/keys`, {
        headers: { authorization: "Bearer wrong-token", "cf-connecting-ip": `203.0.113.${i}` },
      });
      if (response.status === 429) limited += 1;
    }
    if (limited === 0)
      throw new Error("a made-up cf-connecting-ip per request escaped the operator API's per-IP limit");
    console.log(`smoke: made-up cf-connecting-ip headers are ignored (${limited} of 40 operator calls limited)`);
    await openAiCheck(url, keys.acme!);
    await toolsCheck(url, keys.acme!);
    // The secret keys only: a publishable key is refused on /mcp, which widget-check and the tests cover.
    await mcpCheck(url, { acme: keys.acme!, globex: keys.globex! });
    await embeddingsCheck(url, keys.acme!);
    await speechCheck(url, keys.acme!);
    await consoleCheck(url, keys);
    await widgetCheck(url, keys);
    await docsCheck(url);
    console.log("smoke: passed");
  } catch (error) {
    console.error(output.split("\n").slice(-40).join("\n"));
    throw error;
  } finally {
    stop();
  }
}

main().catch((error: Error) => {
  console.error(`smoke: FAILED: ${error.message}`);
  process.exit(1);
});
