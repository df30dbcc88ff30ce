/**
 * Runs wrangler's own commands. `wrangler` is looked up on PATH first — `pnpm run deploy` puts the
 * repo's own (node_modules/.bin) there, and the tests put a fake one in front — and the repo's is
 * the fallback when the script is run without pnpm. Every command is printed before it runs;
 * secret values only ever travel on stdin, never in arguments or the log.
 */
import { spawn } from "node:child_process";
import { delimiter, join } from "node:path";

export interface RunOptions {
  /** Capture stdout (for list commands) instead of passing it through. */
  capture?: boolean;
  /** Written to stdin, then closed (secret put). */
  input?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Wrangler {
  readonly #env: NodeJS.ProcessEnv;

  constructor(
    readonly repoRoot: string,
    readonly log: (line: string) => void,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.#env = {
      ...env,
      PATH: [env.PATH, join(repoRoot, "node_modules", ".bin")].filter(Boolean).join(delimiter),
      // No telemetry, and no banner (whose update check is a network call a dry run must not make).
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_HIDE_BANNER: "true",
    };
  }

  /** Runs `wrangler …args`; resolves with its exit code and output, whatever the code. */
  run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    this.log(`$ wrangler ${args.join(" ")}${options.input !== undefined ? " < (secret on stdin)" : ""}`);
    return new Promise((resolve, reject) => {
      const child = spawn("wrangler", args, {
        cwd: this.repoRoot,
        env: this.#env,
        stdio: [
          options.input !== undefined ? "pipe" : "inherit",
          options.capture ? "pipe" : "inherit",
          options.capture ? "pipe" : "inherit",
        ],
      });
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
      child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
      if (options.input !== undefined) child.stdin?.end(options.input);
    });
  }

  /** Runs `wrangler …args` and returns its stdout; throws with its output on a non-zero exit. */
  async ok(args: string[], options: RunOptions = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) {
      const output = `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-15).join("\n");
      throw new Error(
        `wrangler ${args[0]} ${args[1] ?? ""} failed (exit ${result.code})${output ? `:\n${output}` : ""}`,
      );
    }
    return result.stdout;
  }
}
