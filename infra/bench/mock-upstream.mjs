/**
 * mock-upstream.mjs — an OpenAI-style model upstream for `pnpm bench`: a plain Node `http` server
 * on 127.0.0.1, in its OWN process (so it never shares an event loop with the harness or the load
 * generator), answering `POST /v1/chat/completions` at once, with no artificial delay:
 *
 * - `stream` false or absent → one `chat.completion` JSON object;
 * - `stream: true` → SSE: exactly 20 `chat.completion.chunk`s carrying `delta.content` pieces
 *   (the first also carries `role: "assistant"`), one chunk with `finish_reason: "stop"`, a usage
 *   chunk (empty `choices`) when `stream_options.include_usage` is set, then `data: [DONE]`. Each
 *   chunk is written (and flushed: no Nagle, no cork) as soon as it is made.
 *
 * Any model name is accepted and echoed. Usage: prompt tokens ≈ characters of the messages / 4
 * (+ 4 per message), completion tokens = the 20 pieces. `GET /health` answers 200; everything
 * else 404 in OpenAI's error shape.
 *
 * Parent side: `startMockUpstream()` forks this file with `--child` and resolves once the child
 * listens: `{ name, url, port, pid, dispose }`. Child side: `node mock-upstream.mjs --child
 * [--port n]` (also usable by hand; it prints the port when run without IPC).
 */
import { fork } from "node:child_process";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

const HOST = "127.0.0.1";
/** The 20 content pieces of every answer (~4 characters per token, as the usage reports). */
export const PIECES = Array.from(
  { length: 20 },
  (_, i) => ["Pack ", "layers, ", "water, ", "a map ", "and snacks. "][i % 5] + (i === 19 ? "Enjoy." : ""),
);
const ANSWER = PIECES.join("");

// ---------------------------------------------------------------------------------------------
// Parent side

/** Starts the mock in a child process; resolves with its URL and pid. */
export function startMockUpstream({ port = 0, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ["--child", "--port", String(port)], {
      // Plain Node: no tsx loader in the upstream's process.
      execArgv: [],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`mock upstream did not listen within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(err);
    };
    child.on("error", fail);
    child.on("exit", (code) => fail(new Error(`mock upstream exited early with code ${code}`)));
    child.once("message", (msg) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!msg?.port) return reject(new Error(`mock upstream: ${msg?.error ?? "no port"}`));
      child.removeAllListeners("exit");
      const exited = new Promise((r) => child.once("exit", r));
      let disposed = false;
      resolve({
        name: "mock-upstream",
        url: `http://${HOST}:${msg.port}`,
        port: msg.port,
        pid: child.pid,
        logs: { lines: 0, tail: [] },
        dispose: async () => {
          if (disposed) return;
          disposed = true;
          if (child.exitCode === null && child.signalCode === null) {
            child.kill("SIGTERM");
            const killer = setTimeout(() => child.kill("SIGKILL"), 2_000);
            await exited;
            clearTimeout(killer);
          }
        },
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Child side

const estimateTokens = (text) => Math.ceil(text.length / 4);

function promptTokensOf(body) {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  let tokens = 0;
  for (const m of messages) {
    const content = typeof m?.content === "string" ? m.content : JSON.stringify(m?.content ?? "");
    tokens += estimateTokens(content) + 4;
  }
  return Math.max(1, tokens);
}

function usageOf(body) {
  const prompt = promptTokensOf(body);
  const completion = estimateTokens(ANSWER);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

let sequence = 0;
const newId = () => `chatcmpl-mock${process.pid.toString(36)}${(++sequence).toString(36)}`;

function sendJson(res, status, value) {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function completion(body) {
  return {
    id: newId(),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [{ index: 0, message: { role: "assistant", content: ANSWER }, logprobs: null, finish_reason: "stop" }],
    usage: usageOf(body),
  };
}

function stream(res, body) {
  const id = newId();
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices, extra = {}) =>
    `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices, ...extra })}\n\n`;
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.flushHeaders();
  PIECES.forEach((piece, i) => {
    const delta = i === 0 ? { role: "assistant", content: piece } : { content: piece };
    res.write(chunk([{ index: 0, delta, logprobs: null, finish_reason: null }]));
  });
  res.write(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]));
  if (body.stream_options?.include_usage === true) res.write(chunk([], { usage: usageOf(body) }));
  res.end("data: [DONE]\n\n");
}

function handle(req, res) {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method === "GET" && path === "/health") return sendJson(res, 200, { ok: true });
  if (path !== "/v1/chat/completions")
    return sendJson(res, 404, { error: { message: `no route ${req.method} ${path}`, type: "not_found" } });
  if (req.method !== "POST")
    return sendJson(res, 405, { error: { message: "use POST", type: "invalid_request_error" } });
  const parts = [];
  req.on("data", (c) => parts.push(c));
  req.on("end", () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(parts).toString("utf8"));
    } catch {
      return sendJson(res, 400, { error: { message: "body is not JSON", type: "invalid_request_error" } });
    }
    if (typeof body !== "object" || body === null || !Array.isArray(body.messages))
      return sendJson(res, 400, { error: { message: "messages must be an array", type: "invalid_request_error" } });
    if (typeof body.model !== "string") body.model = "mock";
    if (body.stream === true) stream(res, body);
    else sendJson(res, 200, completion(body));
  });
}

function childMain() {
  const at = process.argv.indexOf("--port");
  const port = at > 0 ? Number(process.argv[at + 1]) : 0;
  const server = createServer({ noDelay: true, keepAliveTimeout: 60_000 }, handle);
  server.on("error", (err) => {
    if (process.send) process.send({ error: String(err) });
    else console.error(err);
    process.exit(1);
  });
  server.listen(port, HOST, () => {
    const listening = server.address().port;
    if (process.send) process.send({ port: listening });
    else console.log(`mock upstream on http://${HOST}:${listening}`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("disconnect", () => process.exit(0)); // the harness went away
}

if (process.argv[2] === "--child") childMain();
