/**
 * `crispy tools list` (`GET /v1/tools`: the tools this key may call, with their input schemas) and
 * `crispy tools exec <name>` (`POST /v1/tools/:name/execute`). A tool that ran and failed is a
 * 200 whose status says so: its output is printed and the exit code is 1.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { ToolExecution } from "@crispy/contracts";
import { action, invocationDir } from "../context";
import { CliError, EXIT } from "../errors";
import { pc, print, printJson, table, truncate } from "../output";

interface ListedTool {
  name: string;
  description: string;
  kind: string;
  parameters: { properties?: Record<string, unknown>; required?: string[] };
}

interface ExecOptions {
  input?: string;
  inputFile?: string;
}

function parseInput(options: ExecOptions): Record<string, unknown> {
  if (options.input !== undefined && options.inputFile !== undefined)
    throw new CliError("give --input or --input-file, not both", { exitCode: EXIT.usage, code: "bad_option" });
  let text = "{}";
  let from = "--input";
  if (options.input !== undefined) text = options.input;
  else if (options.inputFile !== undefined) {
    from = options.inputFile;
    try {
      text = readFileSync(resolve(invocationDir(), options.inputFile), "utf8");
    } catch (error) {
      throw new CliError(`cannot read ${options.inputFile}: ${(error as Error).message}`, {
        exitCode: EXIT.usage,
        code: "bad_option",
      });
    }
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${from} is not valid JSON: ${(error as Error).message}`, {
      exitCode: EXIT.usage,
      code: "bad_option",
    });
  }
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new CliError(`${from} must be a JSON object`, { exitCode: EXIT.usage, code: "bad_option" });
  return input as Record<string, unknown>;
}

export function registerTools(program: Command): void {
  const tools = program.command("tools").description("the tools this key may call: list them, run one");

  tools
    .command("list", { isDefault: true })
    .description("list the tools with their inputs")
    .action(
      action<Record<string, never>>(async (context) => {
        const { tools: listed } = await context.client().json<{ tools: ListedTool[] }>("GET", "/v1/tools");
        if (context.options.json) {
          printJson({ tools: listed });
          return;
        }
        if (listed.length === 0) {
          print("No tools are available to this key.");
          return;
        }
        print(
          table(
            ["name", "kind", "input", "description"],
            listed.map((tool) => {
              const required = new Set(tool.parameters?.required ?? []);
              const fields = Object.keys(tool.parameters?.properties ?? {}).map((f) => (required.has(f) ? f : `${f}?`));
              return [tool.name, tool.kind, fields.join(", ") || "-", truncate(tool.description, 60)];
            }),
          ),
        );
      }),
    );

  tools
    .command("exec")
    .argument("<name>", "the tool's name")
    .description("run a tool with a JSON input")
    .option("--input <json>", "the input object as JSON (default {})")
    .option("--input-file <file>", "read the input object from a JSON file")
    .addHelpText("after", '\nExample:\n  crispy tools exec search_documents --input \'{"query":"refunds"}\'')
    .action(
      action<ExecOptions>(async (context, name) => {
        const input = parseInput(context.options);
        const execution = await context
          .client()
          .json<ToolExecution & { output: unknown }>("POST", `/v1/tools/${encodeURIComponent(name ?? "")}/execute`, {
            json: { input },
          });
        if (context.options.json) printJson(execution);
        else {
          const output =
            typeof execution.output === "string" ? execution.output : JSON.stringify(execution.output, null, 2);
          print(output);
          process.stderr.write(
            `${pc.dim(`${execution.tool} ${execution.status} in ${execution.durationMs} ms${execution.truncated ? " (output truncated)" : ""} · execution ${execution.executionId}`)}\n`,
          );
        }
        if (execution.status !== "ok") process.exitCode = EXIT.failed;
      }),
    );
}
