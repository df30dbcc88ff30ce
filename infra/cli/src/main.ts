/**
 * `crispy` — the Crispy Enigma platform from a terminal. Global options: `--url`, `--key` (else
 * CRISPY_URL / CRISPY_KEY, else what `crispy login` stored) and `--json` (one JSON document on
 * stdout, for scripts). Exit codes: errors.ts `EXIT`, documented in docs/cli.md.
 */
import { Command, CommanderError } from "commander";
import { registerChat } from "./commands/chat";
import { registerIngest } from "./commands/ingest";
import { registerKeys } from "./commands/keys";
import { registerLogin } from "./commands/login";
import { registerSearch } from "./commands/search";
import { registerTools } from "./commands/tools";
import { registerUsage } from "./commands/usage";
import { EXIT } from "./errors";

// A reader that stops early (`crispy usage --json | head`) closes the pipe: that ends the
// command quietly, as it does for any Unix tool.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const program = new Command("crispy");
program
  .description("Chat, ingest, search, keys, usage and tools of a Crispy Enigma gateway")
  .version("0.1.0")
  .option("--url <url>", "gateway URL (or CRISPY_URL; default: the stored login, else http://127.0.0.1:8787)")
  .option("--key <key>", "API key (or CRISPY_KEY; default: the stored login)")
  .option("--json", "print one JSON document on stdout (errors too), for scripts")
  .showHelpAfterError("(crispy --help lists the commands; crispy <command> --help its options)")
  // Usage errors exit 2 (commander's default is 1, which is ours for "partly failed").
  .exitOverride()
  .addHelpText(
    "after",
    `
Examples:
  crispy login --url http://127.0.0.1:8787 --key ce_…
  crispy ingest ./handbook
  crispy chat "What does the handbook say about refunds?"
  crispy search refunds --json | jq .sources

Docs: docs/cli.md`,
  );

registerLogin(program);
registerChat(program);
registerIngest(program);
registerSearch(program);
registerKeys(program);
registerUsage(program);
registerTools(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  const ok = error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0;
  process.exitCode = ok ? EXIT.ok : EXIT.usage;
}
