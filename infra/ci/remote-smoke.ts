/**
 * pnpm smoke — the smoke checks against any deployment (after `pnpm run deploy`, or `pnpm dev`):
 *
 *   pnpm smoke --url https://crispy-gateway.<account>.workers.dev --key <api key>
 *              [--other-key <another tenant's key>] [--operator-token <token>] [--no-local-checks]
 *
 * (or SMOKE_URL, SMOKE_KEY, SMOKE_OTHER_KEY, SMOKE_OPERATOR_TOKEN, so no secret sits in a command
 * line). The key needs the chat, search, ingest and tools scopes for every check; a check whose
 * scope, feature or credential is missing is skipped with a note, never passed silently.
 *
 * Checks, model-agnostic so they hold on Workers AI as on the local models: health; auth (401
 * without or with a made-up key; the other tenant's key refused for this tenant, 403); every
 * internal worker answering (/v1/mesh); a streamed chat turn (tokens, then done); the `openai`
 * client (models, completion, stream with usage); ingest + cited search; a built-in tool; the
 * platform as an MCP server (the MCP SDK's client); embeddings (the tenant's dimensions, base64 =
 * float); speech; with the operator token, a key created, used and revoked.
 *
 * Against a local mesh (a loopback URL serving the `local/` models, e.g. `pnpm dev`) it also runs
 * the CI's own deterministic check modules (openai-, tools-, embeddings-, speech-, mcp- and
 * console-check.ts: exact texts, tool round trips through a loopback HTTP tool, the console in
 * Chromium), which hold only there.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import OpenAI from "openai";
import { consoleCheck } from "./console-check";
import { embeddingsCheck } from "./embeddings-check";
import { mcpCheck } from "./mcp-check";
import { openAiCheck } from "./openai-check";
import { speechCheck } from "./speech-check";
import { toolsCheck } from "./tools-check";

interface Summary {
  id: string;
  key: { scopes: string[] };
  features: Record<string, boolean>;
  models: { chat: string; allowed: string[]; embeddings: string };
  rateLimits: { perKey: { perMinute: number; burst: number } };
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Throws with the response's body (read only then) unless it has `status`. */
async function expectStatus(response: Response, status: number, label: string): Promise<void> {
  if (response.status !== status)
    throw new Error(`${label} → ${response.status}, expected ${status}: ${await response.text()}`);
}

const passed = (line: string) => console.log(`smoke: ${line}`);
const skipped: string[] = [];
const skip = (what: string, why: string) => {
  skipped.push(what);
  console.log(`smoke: SKIPPED ${what}: ${why}`);
};

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.SMOKE_URL },
      key: { type: "string", default: process.env.SMOKE_KEY },
      "other-key": { type: "string", default: process.env.SMOKE_OTHER_KEY },
      "operator-token": { type: "string", default: process.env.SMOKE_OPERATOR_TOKEN },
      "no-local-checks": { type: "boolean", default: false },
    },
  });
  if (!values.url || !values.key)
    throw new Error("usage: pnpm smoke --url <gateway URL> --key <api key> (or SMOKE_URL, SMOKE_KEY)");
  return {
    url: values.url.replace(/\/+$/, ""),
    key: values.key,
    otherKey: values["other-key"] || undefined,
    operatorToken: values["operator-token"] || undefined,
    localChecks: !values["no-local-checks"],
  };
}

type Options = ReturnType<typeof options>;

async function get(o: Options, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${o.url}${path}`, { headers });
}

const auth = (key: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, ...extra });
const json = (key: string) => auth(key, { "content-type": "application/json" });

async function authChecks(o: Options): Promise<{ summary: Summary; otherTenant: string | null }> {
  const health = await get(o, "/health");
  check(health.status === 200, `GET /health → ${health.status}`);
  passed("GET /health → 200");
  const tenant = await get(o, "/v1/tenant", auth(o.key));
  await expectStatus(tenant, 200, "GET /v1/tenant with the key");
  const summary = (await tenant.json()) as Summary;
  passed(
    `GET /v1/tenant → tenant ${summary.id}, scopes ${summary.key.scopes.join(",")}, chat model ${summary.models.chat}`,
  );
  const none = await get(o, "/v1/tenant", { "x-tenant-id": summary.id });
  check(none.status === 401, `GET /v1/tenant without a key → ${none.status}, expected 401`);
  const madeUp = await get(o, "/v1/tenant", auth(`ce_${"x".repeat(43)}`));
  check(madeUp.status === 401, `GET /v1/tenant with a made-up key → ${madeUp.status}, expected 401`);
  passed("no key → 401, a made-up key → 401");
  let otherTenant: string | null = null;
  if (o.otherKey) {
    const other = await get(o, "/v1/tenant", auth(o.otherKey));
    check(other.status === 200, `GET /v1/tenant with the other key → ${other.status}`);
    const otherId = ((await other.json()) as Summary).id;
    check(otherId !== summary.id, `--other-key belongs to ${otherId} too; give another tenant's key`);
    const crossed = await get(o, "/v1/tenant", auth(o.otherKey, { "x-tenant-id": summary.id }));
    check(crossed.status === 403, `${otherId}'s key naming ${summary.id} → ${crossed.status}, expected 403`);
    passed(`${otherId}'s key naming tenant ${summary.id} → 403`);
    otherTenant = otherId;
  } else skip("cross-tenant refusal", "needs --other-key (a key of another tenant)");
  const mesh = (await (await get(o, "/v1/mesh", auth(o.key))).json()) as { ok: boolean };
  check(mesh.ok, `GET /v1/mesh reports an unreachable worker: ${JSON.stringify(mesh)}`);
  passed("GET /v1/mesh → every internal worker answered");
  return { summary, otherTenant };
}

async function chatStream(o: Options): Promise<void> {
  const started = Date.now();
  const response = await fetch(`${o.url}/v1/chat`, {
    method: "POST",
    headers: json(o.key),
    body: JSON.stringify({ message: "Reply with one short sentence: what is a smoke test?" }),
  });
  await expectStatus(response, 200, "POST /v1/chat");
  check(response.headers.get("content-type")?.startsWith("text/event-stream"), "POST /v1/chat is not an SSE stream");
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let firstToken: number | null = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    if (firstToken === null && text.includes("event: token")) firstToken = Date.now() - started;
  }
  const tokens = text.split("event: token").length - 1;
  check(tokens > 0, `the chat stream has no token events:\n${text.slice(0, 400)}`);
  const done = /event: done\ndata: (.*)\n/.exec(text);
  check(done, `the chat stream did not end with done:\n${text.slice(-400)}`);
  const { sessionId } = JSON.parse(done[1]!) as { sessionId: string };
  passed(`POST /v1/chat → ${tokens} tokens streamed (first after ${firstToken} ms), then done`);
  await fetch(`${o.url}/v1/sessions/${sessionId}`, { method: "DELETE", headers: auth(o.key) });
}

async function openAi(o: Options, summary: Summary): Promise<void> {
  const client = new OpenAI({ baseURL: `${o.url}/v1`, apiKey: o.key, maxRetries: 1 });
  const ids = (await client.models.list()).data.map((model) => model.id);
  check(ids.includes(summary.models.chat), `models.list lacks the tenant's default ${summary.models.chat}`);
  const messages = [{ role: "user" as const, content: "Say hello in three words." }];
  const plain = await client.chat.completions.create({ model: summary.models.chat, messages });
  check(plain.choices[0]?.message.content, "the completion is empty");
  check((plain.usage?.total_tokens ?? 0) > 0, "the completion has no usage");
  const stream = await client.chat.completions.create({
    model: summary.models.chat,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let chunks = 0;
  let usage = 0;
  for await (const chunk of stream) {
    chunks += chunk.choices[0]?.delta.content ? 1 : 0;
    usage = chunk.usage?.total_tokens ?? usage;
  }
  check(chunks > 0 && usage > 0, `the stream had ${chunks} content chunks and usage ${usage}`);
  passed(`openai client: models.list (${ids.length}), a completion, a stream of ${chunks} chunks with usage`);
}

async function search(o: Options): Promise<void> {
  const word = `smokeword${Date.now()}`;
  const ingested = await fetch(`${o.url}/v1/documents?wait=true`, {
    method: "POST",
    headers: json(o.key),
    body: JSON.stringify({ title: "Smoke test note", text: `The ${word} lighthouse was first lit in 1874.` }),
  });
  await expectStatus(ingested, 200, "POST /v1/documents?wait=true");
  const { docId } = (await ingested.json()) as { docId: string };
  try {
    const response = await fetch(`${o.url}/v1/search`, {
      method: "POST",
      headers: json(o.key),
      body: JSON.stringify({ query: `When was the ${word} lighthouse first lit?` }),
    });
    await expectStatus(response, 200, "POST /v1/search");
    const answer = (await response.json()) as { found: boolean; sources: Array<{ docId: string }> };
    check(answer.found && answer.sources.some((s) => s.docId === docId), "the search did not cite the document");
    passed(`ingest (wait) + POST /v1/search → found, cites the document among ${answer.sources.length} sources`);
  } finally {
    await fetch(`${o.url}/v1/documents/${docId}`, { method: "DELETE", headers: auth(o.key) });
  }
}

async function tools(o: Options): Promise<void> {
  const list = await fetch(`${o.url}/v1/tools`, { headers: auth(o.key) });
  check(list.status === 200, `GET /v1/tools → ${list.status}`);
  const names = ((await list.json()) as { tools: Array<{ name: string }> }).tools.map((tool) => tool.name);
  check(names.includes("current_time"), `GET /v1/tools lacks current_time: ${names.join(", ")}`);
  const run = await fetch(`${o.url}/v1/tools/current_time/execute`, {
    method: "POST",
    headers: json(o.key),
    body: JSON.stringify({ input: { timezone: "UTC" } }),
  });
  const result = (await run.json()) as { status: string };
  check(run.status === 200 && result.status === "ok", `current_time → ${run.status} ${JSON.stringify(result)}`);
  passed(`GET /v1/tools (${names.length} tools), POST /v1/tools/current_time/execute → ok`);
}

async function mcp(o: Options): Promise<void> {
  const transport = new StreamableHTTPClientTransport(new URL(`${o.url}/mcp`), {
    requestInit: { headers: auth(o.key) },
  });
  const client = new Client({ name: "crispy-smoke", version: "1.0.0" });
  await client.connect(transport);
  try {
    const { tools: listed } = await client.listTools();
    check(
      listed.some((tool) => tool.name === "current_time"),
      "MCP tools/list lacks current_time",
    );
    const time = (await client.callTool({ name: "current_time", arguments: {} })) as CallToolResult;
    check(!time.isError, `MCP tools/call current_time failed: ${JSON.stringify(time.content)}`);
    passed(`MCP: initialize, tools/list (${listed.length}), tools/call current_time`);
  } finally {
    await client.close();
  }
}

async function embeddings(o: Options, summary: Summary): Promise<void> {
  const client = new OpenAI({ baseURL: `${o.url}/v1`, apiKey: o.key, maxRetries: 1 });
  const input = ["Durable Objects are single-threaded.", "Ships follow lighthouses."];
  const packed = await client.embeddings.create({ model: summary.models.embeddings, input });
  const floats = await client.embeddings.create({ model: summary.models.embeddings, input, encoding_format: "float" });
  const width = packed.data[0]?.embedding.length ?? 0;
  check(packed.data.length === 2 && width > 0, "expected two embeddings");
  check(
    packed.data.every((row, i) => row.embedding.every((v, j) => Math.abs(v - floats.data[i]!.embedding[j]!) < 1e-4)),
    "base64 and float embeddings differ",
  );
  passed(`embeddings (${summary.models.embeddings}) → 2 × ${width}, base64 = float`);
}

async function speech(o: Options): Promise<void> {
  const client = new OpenAI({ baseURL: `${o.url}/v1`, apiKey: o.key, maxRetries: 1 });
  // "tts-1" maps to the tenant's default speech model. Voices and formats depend on the model
  // (docs/speech.md): the 400 for an unknown voice lists the model's, and MeloTTS writes mp3 only.
  const request: OpenAI.Audio.SpeechCreateParams = {
    model: "tts-1",
    voice: "alloy",
    input: "The smoke test can speak.",
    response_format: "wav",
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const audio = await client.audio.speech.create(request);
      const type = audio.headers.get("content-type") ?? "";
      const bytes = new Uint8Array(await audio.arrayBuffer());
      check(type.startsWith("audio/"), `content-type ${type}`);
      check(bytes.length > 1000, `only ${bytes.length} bytes of audio`);
      passed(`speech (voice ${request.voice}) → ${bytes.length} bytes of ${type}`);
      return;
    } catch (error) {
      if (!(error instanceof OpenAI.BadRequestError) || attempt === 2) throw error;
      const speakers = /has the speakers ([\w, -]+);/.exec(error.message)?.[1]?.split(", ");
      if (speakers?.[0]) request.voice = speakers[0];
      else if (/one voice per language/.test(error.message)) request.voice = "en";
      else if (/response_format|mp3/.test(error.message)) request.response_format = "mp3";
      else throw error;
    }
  }
}

async function operator(o: Options, summary: Summary, token: string): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const created = await fetch(`${o.url}/admin/tenants/${summary.id}/keys`, {
    method: "POST",
    headers,
    body: JSON.stringify({ scopes: ["chat"], name: "pnpm smoke (revoked at once)", expiresInSeconds: 600 }),
  });
  await expectStatus(created, 201, `POST /admin/tenants/${summary.id}/keys`);
  const { id, key } = (await created.json()) as { id: string; key: string };
  check((await get(o, "/v1/tenant", auth(key))).status === 200, "the new key does not work");
  const revoked = await fetch(`${o.url}/admin/tenants/${summary.id}/keys/${id}`, { method: "DELETE", headers });
  check(revoked.ok, `revoking the key → ${revoked.status}`);
  // Revocation is immediate on the isolate that revoked it and within KEY_CACHE_TTL_MS (10 s) elsewhere.
  const deadline = Date.now() + 15_000;
  while ((await get(o, "/v1/tenant", auth(key))).status !== 401) {
    check(Date.now() < deadline, "a revoked key still works after 15 s");
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  passed("operator API: a key created, used, revoked → 401");
}

/** The CI's deterministic checks, which need the local models and a mesh on this machine. */
async function localChecks(o: Options, summary: Summary, otherTenant: string | null): Promise<void> {
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(new URL(o.url).hostname);
  if (!loopback || !summary.models.chat.startsWith("local/")) {
    skip("the CI's deterministic checks", "they need a mesh on this machine serving the local/ models");
    return;
  }
  // They were written to start on a full rate-limit bucket (as in the CI smoke): wait for it to refill.
  const { perMinute, burst } = summary.rateLimits.perKey;
  const seconds = Math.ceil((burst / perMinute) * 60) + 1;
  console.log(`smoke: waiting ${seconds} s for the key's rate limit (${perMinute}/min, burst ${burst}) to refill`);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await openAiCheck(o.url, o.key);
  await toolsCheck(o.url, o.key);
  await embeddingsCheck(o.url, o.key);
  await speechCheck(o.url, o.key);
  // Both name tenant acme and compare it with the other tenants' keys.
  if (summary.id !== "acme") {
    skip("mcp-check and console-check", "they are written for tenant acme's key");
    return;
  }
  await mcpCheck(o.url, { acme: o.key, ...(otherTenant && o.otherKey ? { [otherTenant]: o.otherKey } : {}) });
  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (existsSync(chromium)) await consoleCheck(o.url, { acme: o.key });
  else skip("console-check", `no Chromium at ${chromium} (apt-get install -y chromium, or CHROMIUM_PATH)`);
}

async function main(): Promise<void> {
  const o = options();
  console.log(`smoke: ${o.url}`);
  const { summary, otherTenant } = await authChecks(o);
  const has = (scope: string) => summary.key.scopes.includes(scope);
  const gated = async (what: string, scopes: string[], feature: string | null, run: () => Promise<void>) => {
    const missing = scopes.filter((scope) => !has(scope));
    if (missing.length > 0) return skip(what, `the key lacks the ${missing.join(", ")} scope`);
    if (feature && summary.features[feature] !== true) return skip(what, `tenant ${summary.id} has ${feature} off`);
    await run();
  };
  await gated("chat stream", ["chat"], null, () => chatStream(o));
  await gated("openai client", ["chat"], null, () => openAi(o, summary));
  await gated("ingest + search", ["ingest", "search"], "search", () => search(o));
  await gated("tools", ["tools"], "tools", () => tools(o));
  await gated("MCP", ["tools"], "tools", () => mcp(o));
  await gated("embeddings", ["search"], null, () => embeddings(o, summary));
  await gated("speech", ["chat"], null, () => speech(o));
  if (o.operatorToken) await operator(o, summary, o.operatorToken);
  else skip("operator API", "needs --operator-token");
  if (o.localChecks) await localChecks(o, summary, otherTenant);
  console.log(`smoke: passed${skipped.length > 0 ? ` (skipped: ${skipped.join("; ")})` : ""}`);
}

main().catch((error: Error) => {
  console.error(`smoke: FAILED: ${error.message}`);
  process.exit(1);
});
