/**
 * Where the CLI keeps what `crispy login` stored: `config.json` (`{ url, key }`) and `state.json`
 * (the last chat session per gateway and key, for `crispy chat --continue`) in the user's config
 * directory (env-paths: `~/.config/crispy` on Linux, `~/Library/Preferences/crispy` on macOS,
 * `%APPDATA%\crispy\Config` on Windows), or `$CRISPY_CONFIG_DIR`. The key is a secret: both files
 * are written 0600 in a 0700 directory, through a temporary file renamed into place, so a crash
 * never leaves half a file and no other user can read it even for a moment.
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import envPaths from "env-paths";
import { CliError, EXIT } from "./errors";

export const DEFAULT_URL = "http://127.0.0.1:8787";

export interface StoredConfig {
  url: string;
  key: string;
}

interface State {
  /** Last session id by `sessionSlot` (gateway URL + a digest of the key). */
  sessions: Record<string, string>;
}

export function configDir(): string {
  return process.env.CRISPY_CONFIG_DIR || envPaths("crispy", { suffix: "" }).config;
}

export const configPath = (): string => join(configDir(), "config.json");
const statePath = (): string => join(configDir(), "state.json");

function readJsonFile(path: string): unknown {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new CliError(`${path} is not valid JSON`, {
      exitCode: EXIT.notConfigured,
      code: "bad_config",
      hint: "run `crispy logout` and `crispy login` again",
    });
  }
}

/** Writes `value` as JSON, mode 0600, in the config directory (created 0700). */
function writePrivate(path: string, value: unknown): void {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

export function readConfig(): Partial<StoredConfig> {
  const raw = readJsonFile(configPath());
  if (raw === null || typeof raw !== "object") return {};
  const { url, key } = raw as Record<string, unknown>;
  return { ...(typeof url === "string" ? { url } : {}), ...(typeof key === "string" ? { key } : {}) };
}

export function writeConfig(config: StoredConfig): string {
  const path = configPath();
  writePrivate(path, { url: config.url, key: config.key });
  return path;
}

/** Removes the stored login (and the remembered sessions); true if there was one. */
export function removeConfig(): boolean {
  const existed = existsSync(configPath());
  rmSync(configPath(), { force: true });
  rmSync(statePath(), { force: true });
  return existed;
}

/** Sessions belong to a tenant: remember them per gateway and key, never across keys. */
function sessionSlot(url: string, key: string): string {
  return `${url} ${createHash("sha256").update(key).digest("hex").slice(0, 16)}`;
}

function readState(): State {
  const raw = readJsonFile(statePath()) as Partial<State> | null;
  return { sessions: raw && typeof raw.sessions === "object" && raw.sessions !== null ? raw.sessions : {} };
}

export function lastSession(url: string, key: string): string | null {
  return readState().sessions[sessionSlot(url, key)] ?? null;
}

export function rememberSession(url: string, key: string, sessionId: string): void {
  const state = readState();
  state.sessions[sessionSlot(url, key)] = sessionId;
  writePrivate(statePath(), state);
}

export interface Target {
  url: string;
  key: string;
}

/** Normalises a gateway URL (http or https, no trailing slash); a usage error otherwise. */
export function normaliseUrl(value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new CliError(`"${value}" is not a URL`, {
      exitCode: EXIT.usage,
      code: "bad_url",
      hint: `e.g. ${DEFAULT_URL}`,
    });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new CliError(`"${value}" must be an http:// or https:// URL`, { exitCode: EXIT.usage, code: "bad_url" });
  return parsed.toString().replace(/\/+$/, "");
}

/**
 * The gateway and key to use: `--url`/`--key`, else `CRISPY_URL`/`CRISPY_KEY`, else the stored
 * login; the URL defaults to the local dev mesh. No key anywhere is exit code 3.
 */
export function resolveTarget(flags: { url?: string; key?: string }): Target {
  const stored = readConfig();
  const url = flags.url ?? process.env.CRISPY_URL ?? stored.url ?? DEFAULT_URL;
  const key = flags.key ?? process.env.CRISPY_KEY ?? stored.key;
  if (!key)
    throw new CliError("no API key", {
      exitCode: EXIT.notConfigured,
      code: "not_logged_in",
      hint: "run `crispy login` (or pass --key, or set CRISPY_KEY)",
    });
  return { url: normaliseUrl(url), key };
}
