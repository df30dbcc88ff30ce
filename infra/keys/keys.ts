/**
 * `pnpm keys` — manage API keys through the gateway's operator API.
 *
 *   pnpm keys create     --tenant acme --scopes chat,search [--tools a,b] [--name "ci"] [--expires-in 30d] [limits]
 *   pnpm keys create     --tenant acme --publishable --origins https://shop.example[,…] [--scopes chat,search]
 *                        [--visitor-rpm 10 --visitor-burst 5] [--daily-tokens n | --daily-usd usd] [--name …]
 *   pnpm keys list       --tenant acme
 *   pnpm keys set-limits --tenant acme --id key_… [limits] [--clear rpm,daily-usd|all] [--name "ci"]   (alias: update)
 *   pnpm keys revoke     --tenant acme --id key_…
 *
 * Limits (each at most the tenant's; docs/admission.md, "Per-key limits"): --rpm, --burst, --tpm,
 * --daily-tokens, --monthly-tokens, --daily-usd, --monthly-usd. `set-limits` changes only the
 * limits it is given (and --clear removes some or all).
 *
 * `--publishable` makes a publishable key (`pk_…`) for the web chat widget (docs/widget.md): bound
 * to `--origins`, scopes `chat` (the default) and optionally `search`, each visitor limited to
 * `--visitor-rpm`/`--visitor-burst` (default 10/min, burst 5), and always a daily ceiling
 * (`--daily-tokens` or `--daily-usd`; without one, a tenth of the tenant's daily tokens).
 *
 * Targets the local dev mesh by default; pass --url and --token (or GATEWAY_URL and
 * OPERATOR_TOKEN) for a deployed gateway.
 */
import { parseArgs } from "node:util";
import { defaultTarget, operatorCall } from "../lib/operator-client";

const USAGE = `usage:
  pnpm keys create     --tenant <id> --scopes chat,search[,ingest,tools,admin] [--tools <tool,…>] [--name <name>] [--expires-in <n>(s|m|h|d)] [limits]
  pnpm keys create     --tenant <id> --publishable --origins <origin,…> [--scopes chat[,search]] [--visitor-rpm <n>] [--visitor-burst <n>] [limits]
  pnpm keys list       --tenant <id>
  pnpm keys set-limits --tenant <id> --id <key id> [limits] [--clear <flag,…>|all] [--name <name>]   (alias: update)
  pnpm keys revoke     --tenant <id> --id <key id>
limits: --rpm <requests/min> --burst <n> --tpm <tokens/min> --daily-tokens <n> --monthly-tokens <n> --daily-usd <usd> --monthly-usd <usd>
options: --url <gateway url> --token <operator token>`;

/** Each limit flag and the field of the API's `limits` it sets. */
const LIMIT_FLAGS = {
  rpm: "requestsPerMinute",
  burst: "burst",
  tpm: "tokensPerMinute",
  "daily-tokens": "dailyTokens",
  "monthly-tokens": "monthlyTokens",
  "daily-usd": "dailyUsd",
  "monthly-usd": "monthlyUsd",
} as const;
type LimitFlag = keyof typeof LIMIT_FLAGS;
type LimitField = (typeof LIMIT_FLAGS)[LimitFlag];

function whole(flag: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new Error(`--${flag} must be a whole number, got "${value}"`);
  return Number(value);
}

function seconds(value: string): number {
  const match = /^(\d+)([smhd])$/.exec(value);
  if (!match) throw new Error(`--expires-in must look like 3600s, 90m, 12h or 30d, got "${value}"`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "s" | "m" | "h" | "d"];
}

/** The limits given as flags (numbers checked here; bounds are the gateway's to check). */
function limitsFrom(values: Record<string, unknown>): Partial<Record<LimitField, number>> {
  const limits: Partial<Record<LimitField, number>> = {};
  for (const [flag, field] of Object.entries(LIMIT_FLAGS) as Array<[LimitFlag, LimitField]>) {
    const raw = values[flag];
    if (typeof raw !== "string") continue;
    const value = Number(raw);
    const usd = flag.endsWith("-usd");
    if (raw.trim() === "" || !Number.isFinite(value) || value < 0 || (!usd && !Number.isInteger(value))) {
      throw new Error(`--${flag} must be ${usd ? "an amount in USD" : "a whole number"}, got "${raw}"`);
    }
    limits[field] = value;
  }
  return limits;
}

/** `--clear rpm,daily-usd` (or `all`) as a merge patch removing those limits. */
function clearedFrom(value: string | undefined): Partial<Record<LimitField, null>> | "all" {
  if (value === undefined) return {};
  if (value.trim() === "all") return "all";
  const cleared: Partial<Record<LimitField, null>> = {};
  for (const flag of value.split(",").map((f) => f.trim().replace(/^--/, ""))) {
    if (!Object.hasOwn(LIMIT_FLAGS, flag)) {
      throw new Error(`--clear takes limit flags (${Object.keys(LIMIT_FLAGS).join(", ")}) or "all", got "${flag}"`);
    }
    cleared[LIMIT_FLAGS[flag as LimitFlag]] = null;
  }
  return cleared;
}

interface KeySummary {
  id: string;
  kind?: "secret" | "publishable";
  publishable?: { origins: string[]; visitorLimits: { requestsPerMinute: number; burst: number } };
  name: string | null;
  prefix: string;
  scopes: string[];
  tools: string[] | null;
  limits: Partial<Record<LimitField, number>> | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  usage?: { daily: { used: number; limit: number }; monthly: { used: number; limit: number } } | null;
}

function describeLimits(limits: KeySummary["limits"]): string {
  if (!limits) return "tenant's";
  return (Object.entries(LIMIT_FLAGS) as Array<[LimitFlag, LimitField]>)
    .filter(([, field]) => limits[field] !== undefined)
    .map(([flag, field]) => `${flag}=${limits[field]}`)
    .join(",");
}

async function main(): Promise<void> {
  const limitOptions = Object.fromEntries(Object.keys(LIMIT_FLAGS).map((flag) => [flag, { type: "string" as const }]));
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      tenant: { type: "string" },
      scopes: { type: "string" },
      tools: { type: "string" },
      name: { type: "string" },
      "expires-in": { type: "string" },
      id: { type: "string" },
      clear: { type: "string" },
      publishable: { type: "boolean" },
      origins: { type: "string" },
      "visitor-rpm": { type: "string" },
      "visitor-burst": { type: "string" },
      url: { type: "string" },
      token: { type: "string" },
      ...limitOptions,
    },
  });
  const command = positionals[0] === "update" ? "set-limits" : positionals[0];
  if (!command || !["create", "list", "set-limits", "revoke"].includes(command) || !values.tenant) {
    throw new Error(USAGE);
  }
  const target = defaultTarget({ url: values.url, token: values.token });
  const base = `/admin/tenants/${encodeURIComponent(values.tenant)}/keys`;
  const limits = limitsFrom(values);

  if (command === "create") {
    const publishable = values.publishable === true;
    if (!values.scopes && !publishable) throw new Error(`--scopes is required\n${USAGE}`);
    if (publishable && !values.origins) throw new Error(`--publishable needs --origins\n${USAGE}`);
    if (!publishable && (values.origins || values["visitor-rpm"] || values["visitor-burst"]))
      throw new Error(`--origins, --visitor-rpm and --visitor-burst are for --publishable keys\n${USAGE}`);
    const list = (value: string) =>
      value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    const visitorLimits = {
      ...(values["visitor-rpm"] ? { requestsPerMinute: whole("visitor-rpm", values["visitor-rpm"]) } : {}),
      ...(values["visitor-burst"] ? { burst: whole("visitor-burst", values["visitor-burst"]) } : {}),
    };
    if (visitorLimits.burst !== undefined && visitorLimits.requestsPerMinute === undefined)
      throw new Error("--visitor-burst needs --visitor-rpm too");
    const created = await operatorCall<KeySummary & { key: string }>(target, "POST", base, {
      ...(publishable ? { kind: "publishable", origins: list(values.origins!) } : {}),
      ...(Object.keys(visitorLimits).length > 0 ? { visitorLimits } : {}),
      scopes: list(values.scopes ?? "chat"),
      ...(values.tools ? { tools: values.tools.split(",").map((t) => t.trim()) } : {}),
      ...(values.name ? { name: values.name } : {}),
      ...(values["expires-in"] ? { expiresInSeconds: seconds(values["expires-in"]) } : {}),
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
    });
    console.log(
      `created ${created.id} for tenant ${values.tenant} (scopes: ${created.scopes.join(", ")}; limits: ${describeLimits(created.limits)}${created.expiresAt ? `; expires ${created.expiresAt}` : ""})`,
    );
    if (created.publishable) {
      const { origins, visitorLimits: visitor } = created.publishable;
      console.log(
        `publishable: origins ${origins.join(", ")}; each visitor ${visitor.requestsPerMinute}/min (burst ${visitor.burst})`,
      );
      console.log(
        `\n  ${created.key}\n\nA publishable key may be shown in a web page: put it in the widget's script tag,`,
      );
      console.log(`  <script src="${target.url}/widget.js" data-key="${created.key}" async></script>`);
    } else console.log(`\n  ${created.key}\n\nThis key is shown once; store it now.`);
  } else if (command === "list") {
    const { keys } = await operatorCall<{ keys: KeySummary[] }>(target, "GET", base);
    if (keys.length === 0) console.log(`tenant ${values.tenant} has no keys`);
    for (const k of keys) {
      const state = k.revokedAt
        ? `revoked ${k.revokedAt}`
        : k.expiresAt && Date.parse(k.expiresAt) <= Date.now()
          ? `expired ${k.expiresAt}`
          : "active";
      const spent = k.usage
        ? `  today=${k.usage.daily.used}/${k.usage.daily.limit} month=${k.usage.monthly.used}/${k.usage.monthly.limit}`
        : "";
      const origins = k.publishable ? `  publishable origins=${k.publishable.origins.join(",")}` : "";
      console.log(
        `${k.id}  ${k.prefix}…  ${state.padEnd(10)}${origins}  scopes=${k.scopes.join(",")}  tools=${k.tools?.join(",") ?? "*"}  limits=${describeLimits(k.limits)}${spent}  name=${k.name ?? "-"}  lastUsed=${k.lastUsedAt ?? "never"}`,
      );
    }
  } else if (command === "set-limits") {
    if (!values.id) throw new Error(`--id is required\n${USAGE}`);
    const cleared = clearedFrom(values.clear);
    const patch = cleared === "all" ? null : { ...cleared, ...limits };
    if (patch !== null && Object.keys(patch).length === 0 && values.name === undefined) {
      throw new Error(`set-limits needs at least one limit, --clear or --name\n${USAGE}`);
    }
    const body = {
      ...(patch === null || Object.keys(patch).length > 0 ? { limits: patch } : {}),
      ...(values.name !== undefined ? { name: values.name } : {}),
    };
    const updated = await operatorCall<KeySummary>(target, "PATCH", `${base}/${encodeURIComponent(values.id)}`, body);
    console.log(`updated ${updated.id}: limits ${describeLimits(updated.limits)}; name ${updated.name ?? "-"}`);
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
