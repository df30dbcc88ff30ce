/** `crispy search <query>`: `POST /v1/search` — the answer with `[n]` citations, then the numbered sources. */
import type { Command } from "commander";
import type { SearchAnswer } from "@crispy/contracts";
import { action } from "../context";
import { CliError, EXIT } from "../errors";
import { note, pc, print, printJson, printSources } from "../output";

interface SearchOptions {
  topK?: string;
}

export function registerSearch(program: Command): void {
  program
    .command("search")
    .argument("<query...>", "what to look for (words may be given without quotes)")
    .description("answer from the tenant's documents, with numbered sources")
    .option("-k, --top-k <n>", "passages to retrieve (1 – the tenant's maximum)")
    .addHelpText("after", '\nExample:\n  crispy search "how do refunds work" --top-k 8')
    .action(
      action<SearchOptions, [string[]]>(async (context, words) => {
        const { options } = context;
        const topK = options.topK === undefined ? undefined : Number(options.topK);
        if (topK !== undefined && !Number.isInteger(topK))
          throw new CliError(`--top-k must be a whole number, got "${options.topK}"`, {
            exitCode: EXIT.usage,
            code: "bad_option",
          });
        const answer = await context.client().json<SearchAnswer>("POST", "/v1/search", {
          json: { query: words.join(" "), ...(topK !== undefined ? { topK } : {}) },
        });
        if (options.json) {
          printJson(answer);
          return;
        }
        print(answer.answer);
        printSources(answer.sources);
        note(
          pc.dim(
            `${answer.found ? "" : "nothing relevant found · "}${answer.model}${answer.cached ? " · cached" : ""}`,
          ),
        );
      }),
    );
}
