/**
 * `crispy chat [message]`: one turn when a message is given, a REPL otherwise. Each turn is a
 * streamed `POST /v1/chat` (SSE: sources, token, tool_call, tool_result, then done or error);
 * tokens are written to stdout as they arrive, citations follow the answer. The session id of the
 * last turn is remembered per gateway and key (config.ts), so `--continue` resumes it. With
 * --json a turn prints one JSON object (the REPL: one per line) instead of streaming text.
 */
import { createInterface } from "node:readline";
import type { Command } from "commander";
import type { SearchSource, TokenUsage } from "@crispy/contracts";
import { lastSession, rememberSession } from "../config";
import { action, type Context } from "../context";
import { CliError, describeApiError, EXIT, statusOfCode } from "../errors";
import type { ApiClient } from "../http";
import { note, pc, print, printJson, printSources } from "../output";
import { readEvents } from "../sse";

interface ChatOptions {
  session?: string;
  continue?: boolean;
  model?: string;
  rag: boolean;
  system?: string;
  tools: boolean;
}

interface ToolActivity {
  id: string;
  name: string;
  arguments: string;
  status?: string;
  output?: unknown;
}

export interface TurnResult {
  sessionId: string;
  turnId: string;
  model: string;
  reply: string;
  usage: TokenUsage | null;
  sources: SearchSource[];
  toolCalls: ToolActivity[];
}

interface TurnRequest {
  message: string;
  sessionId?: string;
  model?: string;
  rag: boolean;
  system?: string;
  tools: boolean;
}

/** Sees a turn as it streams: each token, and a line per tool call and result. */
interface TurnObserver {
  token(text: string): void;
  tool(line: string): void;
}

/** What a turn shows while it streams: tokens on stdout, tool activity on stderr; nothing with --json. */
function observer(json: boolean): TurnObserver {
  if (json) return { token: () => {}, tool: () => {} };
  return { token: (text) => process.stdout.write(text), tool: (line) => note(pc.dim(line)) };
}

/** Runs one streamed turn, reporting it to `observe` as it arrives. */
export async function streamTurn(
  client: ApiClient,
  request: TurnRequest,
  observe: TurnObserver,
  signal?: AbortSignal,
): Promise<TurnResult> {
  const body = {
    message: request.message,
    stream: true,
    rag: request.rag,
    ...(request.sessionId ? { sessionId: request.sessionId } : {}),
    ...(request.model ? { model: request.model } : {}),
    ...(request.system ? { system: request.system } : {}),
    ...(request.tools ? {} : { tools: false }),
  };
  const response = await client.send("POST", "/v1/chat", { json: body, stream: true, ...(signal ? { signal } : {}) });
  const result: TurnResult = {
    sessionId: response.headers.get("x-session-id") ?? request.sessionId ?? "",
    turnId: "",
    model: "",
    reply: "",
    usage: null,
    sources: [],
    toolCalls: [],
  };
  if (!response.body) throw new CliError("the chat response had no body", { exitCode: EXIT.unavailable });
  for await (const { event, data } of readEvents(response.body)) {
    const value = (data ?? {}) as Record<string, unknown>;
    if (event === "token" && typeof value.token === "string") {
      result.reply += value.token;
      observe.token(value.token);
    } else if (event === "sources" && Array.isArray(value.sources)) {
      result.sources = value.sources as SearchSource[];
    } else if (event === "tool_call") {
      const call = { id: String(value.id), name: String(value.name), arguments: String(value.arguments ?? "") };
      result.toolCalls.push(call);
      observe.tool(`→ ${call.name} ${call.arguments}`);
    } else if (event === "tool_result") {
      const call = result.toolCalls.find((c) => c.id === value.id);
      if (call) {
        call.status = String(value.status);
        call.output = value.output;
      }
      observe.tool(`← ${String(value.name)} ${String(value.status)} (${String(value.durationMs)} ms)`);
    } else if (event === "done") {
      result.sessionId = String(value.sessionId ?? result.sessionId);
      result.turnId = String(value.turnId ?? "");
      result.model = String(value.model ?? "");
      result.usage = (value.usage as TokenUsage | undefined) ?? null;
      if (Array.isArray(value.sources)) result.sources = value.sources as SearchSource[];
      return result;
    } else if (event === "error") {
      const code = String(value.code ?? "internal");
      throw describeApiError({
        status: statusOfCode(code),
        code,
        message: String(value.message ?? "the turn failed"),
        requestId: response.headers.get("x-request-id"),
        details: undefined,
        retryAfter: null,
      });
    }
  }
  throw new CliError("the stream ended before the turn finished (no done event)", {
    exitCode: EXIT.unavailable,
    code: "stream_cut",
    hint: `retry; quote request id ${response.headers.get("x-request-id") ?? "?"} if it persists`,
  });
}

/** The sources the reply cites (`[n]`); all of them when it cites none by number. --json keeps every one. */
export function citedSources(result: Pick<TurnResult, "reply" | "sources">): SearchSource[] {
  const cited = new Set([...result.reply.matchAll(/\[(\d+)\]/g)].map((match) => Number(match[1])));
  return cited.size === 0 ? result.sources : result.sources.filter((source) => cited.has(source.n));
}

/** What a finished turn prints after its streamed tokens (people) or as its JSON (scripts). */
function report(result: TurnResult, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  print();
  printSources(citedSources(result));
  const usage = result.usage ? `, ${result.usage.totalTokens} tokens` : "";
  note(pc.dim(`session ${result.sessionId} · ${result.model}${usage}`));
}

async function oneShot(context: Context<ChatOptions>, message: string, sessionId: string | undefined): Promise<void> {
  const { options } = context;
  const target = context.target();
  const json = options.json === true;
  const result = await streamTurn(
    context.client(),
    { ...turnOptions(options), message, ...sessionOf(sessionId) },
    observer(json),
  );
  rememberSession(target.url, target.key, result.sessionId);
  if (json) printJson(result);
  else report(result, false);
}

function turnOptions(options: ChatOptions): Omit<TurnRequest, "message"> {
  return {
    rag: options.rag,
    tools: options.tools,
    ...(options.model ? { model: options.model } : {}),
    ...(options.system ? { system: options.system } : {}),
  };
}

function sessionOf(sessionId: string | undefined): { sessionId?: string } {
  return sessionId ? { sessionId } : {};
}

const HELP = "commands: /new (start a new session), /session (show its id), /exit (or Ctrl-D)";

async function repl(context: Context<ChatOptions>, initialSession: string | undefined): Promise<void> {
  const { options } = context;
  const target = context.target();
  const json = options.json === true;
  const terminal = process.stdin.isTTY === true;
  let sessionId = initialSession;
  let current: AbortController | null = null;
  const rl = createInterface({ input: process.stdin, ...(terminal ? { output: process.stdout } : {}), terminal });
  rl.on("SIGINT", () => {
    if (current) current.abort();
    else rl.close();
  });
  if (!json) note(pc.dim(`${sessionId ? `continuing session ${sessionId}` : "new session"} · ${HELP}`));
  rl.setPrompt(pc.bold("you › "));
  if (terminal) rl.prompt();
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === "/exit" || line === "/quit") break;
    if (line === "/new") {
      sessionId = undefined;
      if (!json) note(pc.dim("new session"));
    } else if (line === "/session") {
      note(sessionId ?? "(no session yet)");
    } else if (line === "/help") {
      note(HELP);
    } else if (line) {
      current = new AbortController();
      try {
        if (!json) process.stdout.write(pc.bold("assistant › "));
        const result = await streamTurn(
          context.client(),
          { ...turnOptions(options), message: line, ...sessionOf(sessionId) },
          observer(json),
          current.signal,
        );
        sessionId = result.sessionId;
        rememberSession(target.url, target.key, sessionId);
        report(result, json);
      } catch (error) {
        if (current.signal.aborted) note(pc.dim("\n(cancelled; nothing was saved)"));
        else if (error instanceof CliError) {
          if (!json) print();
          note(`${pc.red("crispy:")} ${error.line()}`);
          if (json) process.stdout.write(`${JSON.stringify(error.toJSON())}\n`);
        } else throw error;
      } finally {
        current = null;
      }
    }
    if (terminal) rl.prompt();
  }
  rl.close();
}

export function registerChat(program: Command): void {
  program
    .command("chat")
    .argument("[message]", "one message; without it, an interactive session starts")
    .description("chat with the tenant's model, answering from its documents (streamed; session aware)")
    .option("--session <id>", "continue this session")
    .option("-c, --continue", "continue the last session of this gateway and key")
    .option("--model <model>", "a model from the tenant's allow-list (GET /v1/tenant lists them)")
    .option("--system <text>", "a system prompt for the turn")
    .option("--no-rag", "do not retrieve from the tenant's documents")
    .option("--no-tools", "do not let the model call the tenant's tools")
    .addHelpText(
      "after",
      '\nExamples:\n  crispy chat "What is our refund policy?"\n  crispy chat --continue "And for digital goods?"\n  crispy chat            # interactive: /new, /session, /exit',
    )
    .action(
      action<ChatOptions, [string | undefined]>(async (context, message) => {
        const { options } = context;
        let sessionId = options.session;
        if (!sessionId && options.continue) {
          const target = context.target();
          sessionId = lastSession(target.url, target.key) ?? undefined;
          if (!sessionId)
            throw new CliError("no previous session to continue for this gateway and key", {
              exitCode: EXIT.notFound,
              code: "no_session",
              hint: "start one with crispy chat",
            });
        }
        if (message !== undefined) await oneShot(context, message, sessionId);
        else await repl(context, sessionId);
      }),
    );
}
