/**
 * `pnpm keys` — manage API keys through the gateway's operator API.
 *
 *   pnpm keys create --tenant acme --scopes chat,search [--tools a,b] [--name "ci"] [--expires-in 30d]
 *   pnpm keys list   --tenant acme
 *   pnpm keys revoke --tenant acme --id key_…
 *
 * Targets the local dev mesh by default; pass --url and --token (or GATEWAY_URL and
 * OPERATOR_TOKEN) for a deployed gateway.
 */
import { parseArgs } from "node:util";
import { defaultTarget, operatorCall } from "../lib/operator-client";

const USAGE = `usage:
  pnpm keys create --tenant <id> --scopes chat,search[,ingest,tools,admin] [--tools <tool,…>] [--name <name>] [--expires-in <n>(s|m|h|d)]
  pnpm keys list   --tenant <id>
  pnpm keys revoke --tenant <id> --id <key id>
options: --url <gateway url> --token <operator token>`;

function seconds(value: string): number {
  const match = /^(\d+)([smhd])$/.exec(value);
  if (!match) throw new Error(`--expires-in must look like 3600s, 90m, 12h or 30d, got "${value}"`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "s" | "m" | "h" | "d"];
}

interface KeySummary {
  id: string;
  name: string | null;
  prefix: string;
  scopes: string[];
  tools: string[] | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      tenant: { type: "string" },
      scopes: { type: "string" },
      tools: { type: "string" },
      name: { type: "string" },
      "expires-in": { type: "string" },
      id: { type: "string" },
      url: { type: "string" },
      token: { type: "string" },
    },
  });
  const command = positionals[0];
  if (!command || !["create", "list", "revoke"].includes(command) || !values.tenant) throw new Error(USAGE);
  const target = defaultTarget({ url: values.url, token: values.token });
  const base = `/admin/tenants/${encodeURIComponent(values.tenant)}/keys`;

  if (command === "create") {
    if (!values.scopes) throw new Error(`--scopes is required\n${USAGE}`);
    const created = await operatorCall<KeySummary & { key: string }>(target, "POST", base, {
      scopes: values.scopes
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      ...(values.tools ? { tools: values.tools.split(",").map((t) => t.trim()) } : {}),
      ...(values.name ? { name: values.name } : {}),
      ...(values["expires-in"] ? { expiresInSeconds: seconds(values["expires-in"]) } : {}),
    });
    console.log(
      `created ${created.id} for tenant ${values.tenant} (scopes: ${created.scopes.join(", ")}${created.expiresAt ? `, expires ${created.expiresAt}` : ""})`,
    );
    console.log(`\n  ${created.key}\n\nThis key is shown once; store it now.`);
  } else if (command === "list") {
    const { keys } = await operatorCall<{ keys: KeySummary[] }>(target, "GET", base);
    if (keys.length === 0) console.log(`tenant ${values.tenant} has no keys`);
    for (const k of keys) {
      const state = k.revokedAt
        ? `revoked ${k.revokedAt}`
        : k.expiresAt && Date.parse(k.expiresAt) <= Date.now()
          ? `expired ${k.expiresAt}`
          : "active";
      console.log(
        `${k.id}  ${k.prefix}…  ${state.padEnd(10)}  scopes=${k.scopes.join(",")}  tools=${k.tools?.join(",") ?? "*"}  name=${k.name ?? "-"}  lastUsed=${k.lastUsedAt ?? "never"}`,
      );
    }
  } else {
    if (!values.id) throw new Error(`--id is required\n${USAGE}`);
    const revoked = await operatorCall<KeySummary>(target, "DELETE", `${base}/${encodeURIComponent(values.id)}`);
    console.log(`revoked ${revoked.id} at ${revoked.revokedAt}`);
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
