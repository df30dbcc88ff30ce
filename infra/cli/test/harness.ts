/**
 * The CLI tests' harness: a real mesh — every worker of infra/mesh/workers.json from its deploy
 * bundle on plain workerd, through the same machinery as `pnpm bench` (infra/bench/mesh.mjs:
 * Miniflare, bindings from each wrangler.jsonc, D1 migrations applied, in-memory state so each
 * run starts empty and never touches `pnpm dev`'s .dev/) — and the CLI spawned as a child process
 * the way a user runs it, each test with its own config directory.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/crispy.mjs", import.meta.url));

interface MeshHandle {
  url: string;
  dispose(): Promise<void>;
}

interface MeshModule {
  startMesh(options: {
    port: number;
    secrets?: Record<string, string>;
    bindings?: Record<string, Record<string, string>>;
  }): Promise<MeshHandle>;
}

export interface TestMesh {
  url: string;
  operatorToken: string;
  /** Creates an API key for `tenant` through the operator API. */
  createKey(tenant: string, scopes: string[]): Promise<{ id: string; key: string }>;
  dispose(): Promise<void>;
}

export async function startTestMesh(port: number): Promise<TestMesh> {
  // A plain .mjs module of another package; imported by URL so it needs no type declarations.
  const meshUrl = new URL("../../bench/mesh.mjs", import.meta.url).href;
  const { startMesh } = (await import(meshUrl)) as MeshModule;
  const operatorToken = randomBytes(24).toString("base64url");
  const mesh = await startMesh({
    port,
    secrets: { OPERATOR_TOKEN: operatorToken },
    bindings: {
      tools: { TOOLS_SECRET_KEY: randomBytes(32).toString("base64") },
      // The local model pauses between words (as in `pnpm dev`), so streaming can be seen.
      chat: { LOCAL_TOKEN_DELAY_MS: "15" },
    },
  });
  return {
    url: mesh.url,
    operatorToken,
    async createKey(tenant, scopes) {
      const response = await fetch(`${mesh.url}/admin/tenants/${tenant}/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
        body: JSON.stringify({ scopes, name: "cli test" }),
      });
      if (response.status !== 201) throw new Error(`creating a key: ${response.status} ${await response.text()}`);
      return (await response.json()) as { id: string; key: string };
    },
    dispose: () => mesh.dispose(),
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** When each piece of stdout arrived (ms since the start), to tell a stream from one write. */
  stdoutTimes: number[];
  /** stdout parsed as JSON (throws, naming the output, when it is not). */
  json<T = Record<string, unknown>>(): T;
}

/** A fresh, empty config directory (what CRISPY_CONFIG_DIR points at). */
export function freshConfigDir(): string {
  return join(mkdtempSync(join(tmpdir(), "crispy-cli-")), "config");
}

/**
 * Runs `crispy <args>` as a child process with `env` (nothing of the caller's CRISPY_* or pnpm
 * script variables leaks in), optionally feeding `input` on stdin, and collects its output.
 */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; input?: string; cwd?: string } = {},
): Promise<CliRun> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith("CRISPY_") || name.startsWith("npm_") || name === "INIT_CWD") continue;
    env[name] = value;
  }
  Object.assign(env, options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      cwd: options.cwd ?? process.cwd(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const started = Date.now();
    const stdoutTimes: number[] = [];
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      stdoutTimes.push(Date.now() - started);
    });
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({
        code: code ?? -1,
        stdout,
        stderr,
        stdoutTimes,
        json<T>() {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`stdout is not JSON:\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      }),
    );
    child.stdin.end(options.input ?? "");
  });
}
