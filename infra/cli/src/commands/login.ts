/**
 * `crispy login [--url URL] [--key KEY]` checks the key against `GET /v1/tenant` and only then
 * stores `{ url, key }` (config.ts: 0600 in a 0700 directory); what is missing is asked for (the
 * key without echo), or read from piped stdin. `crispy logout` removes it.
 */
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import type { TenantSummary } from "@crispy/contracts";
import { DEFAULT_URL, normaliseUrl, readConfig, removeConfig, writeConfig, configPath } from "../config";
import { action } from "../context";
import { CliError, EXIT } from "../errors";
import { ApiClient } from "../http";
import { pc, print, printJson } from "../output";

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Reads a line from the terminal without echoing it. */
function askSecret(question: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = "";
    input.setRawMode(true);
    input.resume();
    input.setEncoding("utf8");
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off("data", onData);
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(value.trim());
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n") return done();
        if (char === "\u0003") return done(new CliError("cancelled", { exitCode: EXIT.failed, code: "cancelled" }));
        if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
        else value += char;
      }
    };
    input.on("data", onData);
  });
}

/** The first line of piped stdin (`echo $KEY | crispy login --url …`). */
async function readPipedLine(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.includes("\n")) break;
  }
  return text.split("\n")[0]!.trim();
}

async function keyFromUser(): Promise<string> {
  if (process.stdin.isTTY) return askSecret("API key (input hidden): ");
  if (process.stdin.readableEnded) return "";
  return readPipedLine();
}

export function registerLogin(program: Command): void {
  program
    .command("login")
    .description("check an API key against a gateway and store both in the config directory (0600)")
    .addHelpText(
      "after",
      `\nExample:\n  crispy login --url ${DEFAULT_URL} --key ce_…\n  echo "$KEY" | crispy login --url https://api.example.com`,
    )
    .action(
      action<Record<string, never>>(async ({ options }) => {
        const stored = readConfig();
        let url = options.url;
        if (!url && process.stdin.isTTY)
          url = (await ask(`Gateway URL [${stored.url ?? DEFAULT_URL}]: `)) || stored.url || DEFAULT_URL;
        url = normaliseUrl(url ?? stored.url ?? DEFAULT_URL);
        const key = options.key ?? (await keyFromUser());
        if (!key)
          throw new CliError("no API key given", {
            exitCode: EXIT.usage,
            code: "key_required",
            hint: "pass --key, pipe it on stdin, or run crispy login in a terminal to be asked",
          });
        const summary = await new ApiClient(url, key).json<TenantSummary>("GET", "/v1/tenant");
        const path = writeConfig({ url, key });
        if (options.json) {
          printJson({
            url,
            tenant: { id: summary.id, name: summary.name },
            key: summary.key,
            configPath: path,
          });
          return;
        }
        print(
          `Logged in to ${pc.bold(url)} as tenant ${pc.bold(summary.id)} (${summary.name}); key ${summary.key.id} with scopes ${summary.key.scopes.join(", ")}.`,
        );
        print(pc.dim(`Saved to ${path} (readable only by you).`));
      }),
    );

  program
    .command("logout")
    .description("remove the stored URL and key (and the remembered chat sessions)")
    .action(
      action<Record<string, never>>(async ({ options }) => {
        const path = configPath();
        const removed = removeConfig();
        if (options.json) printJson({ removed, configPath: path });
        else print(removed ? `Logged out (removed ${path}).` : "Not logged in; nothing to remove.");
      }),
    );
}
