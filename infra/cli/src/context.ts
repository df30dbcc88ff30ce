/**
 * What every command action gets: its global options (--url, --key, --json), the gateway client
 * for them, and one way to end — a CliError becomes one line on stderr (and a JSON error object on
 * stdout with --json) and the exit code of its kind.
 */
import type { Command } from "commander";
import { resolveTarget, type Target } from "./config";
import { CliError, EXIT } from "./errors";
import { ApiClient } from "./http";
import { type GlobalOptions, note, pc, printJson } from "./output";

export interface Context<O> {
  options: O & GlobalOptions;
  /** Creates the client on first use, so commands that need no login (logout) never ask for one. */
  client(): ApiClient;
  target(): Target;
}

/** Wraps a command's action: resolves options and reports failures with the right exit code. */
export function action<O, A extends unknown[] = string[]>(
  run: (context: Context<O>, ...args: A) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const options = command.optsWithGlobals() as O & GlobalOptions;
    let target: Target | undefined;
    let client: ApiClient | undefined;
    const context: Context<O> = {
      options,
      target: () => {
        target ??= resolveTarget(options);
        return target;
      },
      client: () => {
        client ??= new ApiClient(context.target().url, context.target().key);
        return client;
      },
    };
    // Commander passes the positional arguments, then the options, then the command.
    const positionals = args.slice(0, -2) as A;
    try {
      await run(context, ...positionals);
    } catch (error) {
      fail(error, options.json === true);
    }
  };
}

export function fail(error: unknown, json: boolean): void {
  const failure =
    error instanceof CliError
      ? error
      : new CliError(error instanceof Error ? error.message : String(error), {
          exitCode: EXIT.failed,
          code: "unexpected",
        });
  if (json) printJson(failure.toJSON());
  note(`${pc.red("crispy:")} ${failure.line()}`);
  process.exitCode = failure.exitCode;
}

/** Where relative paths given on the command line are relative to: the user's directory under `pnpm crispy`. */
export function invocationDir(): string {
  return process.env.npm_lifecycle_event === "crispy" && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();
}
