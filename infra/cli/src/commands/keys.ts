/**
 * `crispy keys [list|create|revoke]`. Listing uses the tenant's own `GET /v1/keys` (a key with the
 * `admin` scope). Creating and revoking are the operator API's (`/admin/tenants/:id/keys`, the
 * same calls `pnpm keys` makes through infra/lib/operator-client.ts) and need the operator token:
 * `--operator-token`, `CRISPY_OPERATOR_TOKEN`, or — against a gateway on this machine — the dev
 * mesh's `.dev/operator-token`, as `pnpm keys` does. The tenant is `--tenant`, else the logged-in key's.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Command, Option } from "commander";
import type { ApiKeySummary, CreatedApiKey, TenantSummary } from "@crispy/contracts";
import { DEFAULT_URL, normaliseUrl, readConfig } from "../config";
import { action, type Context } from "../context";
import { CliError, EXIT } from "../errors";
import { ApiClient } from "../http";
import { cell, pc, print, printJson, table } from "../output";

interface OperatorOptions {
  tenant?: string;
  operatorToken?: string;
}

interface CreateOptions extends OperatorOptions {
  scopes: string;
  tools?: string;
  name?: string;
  expiresIn?: string;
}

const DEV_OPERATOR_TOKEN = fileURLToPath(new URL("../../../../.dev/operator-token", import.meta.url));

/** `--expires-in` as seconds: 3600s, 90m, 12h or 30d (as `pnpm keys`). */
export function expirySeconds(value: string): number {
  const match = /^(\d+)([smhd])$/.exec(value);
  if (!match)
    throw new CliError(`--expires-in must look like 3600s, 90m, 12h or 30d, got "${value}"`, {
      exitCode: EXIT.usage,
      code: "bad_option",
    });
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "s" | "m" | "h" | "d"];
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

function stateOf(key: ApiKeySummary): string {
  if (key.revokedAt) return "revoked";
  if (key.expiresAt && Date.parse(key.expiresAt) <= Date.now()) return "expired";
  return "active";
}

/** The operator API's client: the gateway URL, and the operator token in place of a key. */
async function operator(context: Context<OperatorOptions>): Promise<{ client: ApiClient; tenant: string }> {
  const { options } = context;
  const url = normaliseUrl(options.url ?? process.env.CRISPY_URL ?? readConfig().url ?? DEFAULT_URL);
  const host = new URL(url).hostname;
  const local = host === "127.0.0.1" || host === "localhost" || host === "[::1]";
  const token =
    options.operatorToken ??
    process.env.CRISPY_OPERATOR_TOKEN ??
    (local && existsSync(DEV_OPERATOR_TOKEN) ? readFileSync(DEV_OPERATOR_TOKEN, "utf8").trim() : undefined);
  if (!token)
    throw new CliError("creating and revoking keys needs the operator token", {
      exitCode: EXIT.notConfigured,
      code: "operator_token_required",
      hint: "pass --operator-token or set CRISPY_OPERATOR_TOKEN",
    });
  const client = new ApiClient(url, token);
  if (options.tenant) return { client, tenant: options.tenant };
  const summary = await context.client().json<TenantSummary>("GET", "/v1/tenant");
  return { client, tenant: summary.id };
}

const keysPath = (tenant: string) => `/admin/tenants/${encodeURIComponent(tenant)}/keys`;

export function registerKeys(program: Command): void {
  const keys = program
    .command("keys")
    .description("the tenant's API keys: list (admin scope), create and revoke (operator token)");
  const operatorOptions = (command: Command) =>
    command
      .option("--tenant <id>", "the tenant (default: the logged-in key's)")
      .option("--operator-token <token>", "the operator token (or CRISPY_OPERATOR_TOKEN)");

  keys
    .command("list", { isDefault: true })
    .description("list the tenant's keys (never the keys themselves)")
    .action(
      action<Record<string, never>>(async (context) => {
        const { keys: listed } = await context.client().json<{ keys: ApiKeySummary[] }>("GET", "/v1/keys");
        if (context.options.json) {
          printJson({ keys: listed });
          return;
        }
        if (listed.length === 0) {
          print("No keys.");
          return;
        }
        print(
          table(
            ["id", "name", "prefix", "scopes", "tools", "state", "created", "last used"],
            listed.map((key) => [
              key.id,
              cell(key.name),
              `${key.prefix}…`,
              key.scopes.join(","),
              key.tools?.join(",") ?? "*",
              stateOf(key) === "active" ? pc.green("active") : pc.dim(stateOf(key)),
              key.createdAt.slice(0, 10),
              cell(key.lastUsedAt?.slice(0, 16).replace("T", " ")),
            ]),
          ),
        );
      }),
    );

  operatorOptions(
    keys
      .command("create")
      .description("create a key (shown once)")
      .addOption(new Option("--scopes <list>", "comma-separated: chat,search,ingest,tools,admin").makeOptionMandatory())
      .option("--tools <list>", "the key's tool allow-list (comma-separated)")
      .option("--name <name>", "a name to recognise it by")
      .option("--expires-in <duration>", "lifetime: 3600s, 90m, 12h, 30d"),
  )
    .addHelpText("after", "\nExample:\n  crispy keys create --scopes chat,search --name widget --expires-in 30d")
    .action(
      action<CreateOptions>(async (context) => {
        const { options } = context;
        const { client, tenant } = await operator(context);
        const created = await client.json<CreatedApiKey>("POST", keysPath(tenant), {
          json: {
            scopes: list(options.scopes),
            ...(options.tools ? { tools: list(options.tools) } : {}),
            ...(options.name ? { name: options.name } : {}),
            ...(options.expiresIn ? { expiresInSeconds: expirySeconds(options.expiresIn) } : {}),
          },
        });
        if (options.json) {
          printJson(created);
          return;
        }
        print(
          `Created ${created.id} for tenant ${tenant} (scopes ${created.scopes.join(", ")}${created.expiresAt ? `, expires ${created.expiresAt}` : ""}):`,
        );
        print(`\n  ${pc.bold(created.key)}\n`);
        print(pc.yellow("This key is shown once; store it now."));
      }),
    );

  operatorOptions(keys.command("revoke").argument("<keyId>", "the key's id (key_…)").description("revoke a key"))
    .addHelpText("after", "\nExample:\n  crispy keys revoke key_0123abcd")
    .action(
      action<OperatorOptions>(async (context, keyId) => {
        const { client, tenant } = await operator(context);
        const revoked = await client.json<ApiKeySummary>(
          "DELETE",
          `${keysPath(tenant)}/${encodeURIComponent(keyId ?? "")}`,
        );
        if (context.options.json) printJson(revoked);
        else print(`Revoked ${revoked.id} at ${revoked.revokedAt}.`);
      }),
    );
}
