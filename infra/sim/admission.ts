/**
 * `pnpm sim:admission` — admission at internet scale, simulated: one tenant's traffic over 300
 * Cloudflare locations, its RateLimiter and QuotaLedger objects in one home location, a virtual
 * clock. Runs the real LeasedLimiter and BudgetPool (workers/gateway/src/admission) against the
 * real GCRA lease (workers/ratelimit/src/gcra.ts) and the ledger's lease rules, and compares them
 * with one object call per request (per turn). Seeded and deterministic; see docs/admission.md.
 *
 *   pnpm sim:admission                      # the full table (rate and budget)
 *   pnpm sim:admission --only rate --rates 1000,10000
 *   pnpm sim:admission --json               # also writes infra/sim/results/admission.json
 *
 * Exits 1 if any run admitted more than its limit allows or spent more than its budget.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { LEASE_TTL_MS } from "../../workers/gateway/src/admission/rate-lease.ts";
import { type BudgetPolicy, type BudgetResult, MEAN_TURN_RESERVATION, runBudget } from "./budget.ts";
import { streamSeed } from "./engine.ts";
import { type RatePolicy, type RateResult, runRate } from "./rate.ts";
import { round } from "./stats.ts";
import { describeWorld, makeWorld } from "./world.ts";

// A bare `--json` (no file) means the default file: parseArgs wants a value, so give it "".
const argv = process.argv.slice(2);
const jsonAt = argv.indexOf("--json");
if (jsonAt >= 0 && (jsonAt === argv.length - 1 || argv[jsonAt + 1]!.startsWith("--"))) argv.splice(jsonAt + 1, 0, "");

const { values: args } = parseArgs({
  args: argv,
  options: {
    seed: { type: "string", default: "1" },
    locations: { type: "string", default: "300" },
    isolates: { type: "string", default: "1,10" },
    zipf: { type: "string", default: "1" },
    "service-ms": { type: "string", default: "1" },
    rates: { type: "string", default: "1000,10000,100000" },
    seconds: { type: "string", default: "10,5,3" },
    "burst-seconds": { type: "string", default: "1" },
    "turn-fraction": { type: "string", default: "0.01" },
    "budget-seconds": { type: "string", default: "10" },
    only: { type: "string" },
    json: { type: "string" },
    help: { type: "boolean", default: false },
  },
  allowPositionals: false,
  strict: true,
});

const DEFAULT_JSON = new URL("./results/admission.json", import.meta.url).pathname;

if (args.help) {
  console.log(
    "pnpm sim:admission [--seed 1] [--locations 300] [--isolates 1,10] [--zipf 1] [--service-ms 1]\n" +
      "  [--rates 1000,10000,100000] [--seconds 10,5,3] [--burst-seconds 1] [--turn-fraction 0.01]\n" +
      "  [--budget-seconds 10] [--only rate|budget] [--json [file]]",
  );
  process.exit(0);
}

const num = (name: string, value: string | undefined): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got ${value})`);
  return n;
};
const whole = (name: string, value: string | undefined): number => {
  const n = num(name, value);
  if (!Number.isSafeInteger(n)) throw new Error(`--${name} must be a whole number (got ${value})`);
  return n;
};
const list = (name: string, value: string | undefined, parse = num): number[] =>
  (value ?? "").split(",").map((v) => parse(name, v));
if (args.only !== undefined && args.only !== "rate" && args.only !== "budget") {
  throw new Error(`--only must be "rate" or "budget" (got ${args.only})`);
}

const seed = whole("seed", args.seed);
const locations = whole("locations", args.locations);
/** Isolates per location for the leased runs (one object call per request does not depend on it). */
const isolatesList = list("isolates", args.isolates, whole);
const serviceMs = num("service-ms", args["service-ms"]);
const rates = list("rates", args.rates);
const secondsList = list("seconds", args.seconds);
const burstSeconds = num("burst-seconds", args["burst-seconds"]);
const turnFraction = num("turn-fraction", args["turn-fraction"]);
const budgetSeconds = num("budget-seconds", args["budget-seconds"]);
const runRates = args.only !== "budget";
const runBudgets = args.only !== "rate";
const secondsFor = (i: number) => secondsList[Math.min(i, secondsList.length - 1)]!;

const world = makeWorld({ locations, zipf: num("zipf", args.zipf), seed: streamSeed(seed, "world") });
const worldSummary = describeWorld(world);
const log = (line: string) => process.stderr.write(`${line}\n`);
log(
  `world: ${locations} locations (RTT <30 ms: ${worldSummary.rttBands.under30}, 30–120 ms: ${worldSummary.rttBands.from30to120}, ` +
    `120–250 ms: ${worldSummary.rttBands.over120}); traffic share: busiest ${(worldSummary.topShare * 100).toFixed(1)} %, ` +
    `top 10 ${(worldSummary.top10Share * 100).toFixed(1)} %, quietest ${(worldSummary.minShare * 100).toFixed(2)} %; ` +
    `${isolatesList.join(" or ")} isolate(s) per location; object service ${serviceMs} ms/call`,
);

/** The limit (budget) above the offered rate (demand), and below it. */
const limitFactors = [2, 0.5];

const rateResults: RateResult[] = [];
const budgetResults: BudgetResult[] = [];
const violations: string[] = [];

/** The runs of one row group: the one-call-per-request policy once, leased once per isolate count. */
function variants<P extends string>(perCall: P, leased: P): { policy: P; isolates: number }[] {
  return [{ policy: perCall, isolates: 1 }, ...isolatesList.map((isolates) => ({ policy: leased, isolates }))];
}

const label = (policy: string, isolates: number) =>
  policy === "leased" && isolates > 1 ? `leased, ${isolates} isolates/location` : policy;

if (runRates) {
  for (const [i, rate] of rates.entries()) {
    for (const factor of limitFactors) {
      const limitPerSecond = rate * factor;
      const burst = Math.max(1, Math.round(limitPerSecond * burstSeconds));
      for (const { policy, isolates } of variants<RatePolicy>("per-request", "leased")) {
        const result = await runRate({
          policy,
          rate,
          limitPerSecond,
          burst,
          seconds: secondsFor(i),
          isolatesPerLocation: isolates,
          serviceMs,
          world,
          seed,
        });
        rateResults.push(result);
        const name = `rate ${rate}/s limit ${limitPerSecond}/s ${label(policy, isolates)}`;
        log(`${name}: ${result.events} events in ${Math.round(result.wallMs)} ms wall`);
        for (const v of result.violations) violations.push(`${name}: ${v}`);
      }
    }
  }
}

if (runBudgets) {
  for (const rate of rates) {
    const turnRate = rate * turnFraction;
    const demand = turnRate * budgetSeconds * MEAN_TURN_RESERVATION;
    for (const factor of limitFactors) {
      const budget = Math.round(demand * factor);
      for (const { policy, isolates } of variants<BudgetPolicy>("per-turn", "leased")) {
        const result = await runBudget({
          policy,
          turnRate,
          budget,
          seconds: budgetSeconds,
          isolatesPerLocation: isolates,
          serviceMs,
          world,
          seed,
        });
        budgetResults.push(result);
        const name = `budget ${turnRate} turns/s budget ${budget} ${label(policy, isolates)}`;
        log(`${name}: ${result.events} events in ${Math.round(result.wallMs)} ms wall`);
        for (const v of result.violations) violations.push(`${name}: ${v}`);
      }
    }
  }
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : "–");
const ms = (n: number) =>
  n >= 10_000 ? `${(n / 1000).toFixed(0)} s` : n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)}`;

const out: string[] = [];
if (rateResults.length > 0) {
  out.push(
    "### Request-rate limit (tenant-wide)",
    "",
    "| offered/s | limit/s (burst) | policy | admitted | limit allows | ideal | refused below limit | DO calls/s (peak) | DO load | added latency p50 / p99 ms | waited > 1 s |",
    "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const r of rateResults) {
    const belowLimit =
      r.policy === "per-request"
        ? "0 (by construction)"
        : `${int(r.refusedWithCapacity)} (${pct(r.refusedWithCapacity, r.offered)})`;
    out.push(
      `| ${int(r.rate)} | ${int(r.limitPerSecond)} (${int(r.burst)}) | ${label(r.policy, r.isolatesPerLocation)} | ${int(r.admitted)} / ${int(r.offered)} | ` +
        `${int(r.bound)} | ${int(r.ideal)} | ${belowLimit} | ${int(r.objectCallsPerSecond)} (${int(r.objectPeakCallsPerSecond)}) | ` +
        `${round(r.objectLoad, 2)} | ${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p99)} | ${pct(r.waitedOverSecond, r.offered)} |`,
    );
  }
  out.push("");
}
if (budgetResults.length > 0) {
  out.push(
    "### Token budget (daily)",
    "",
    "| turns/s | budget (tokens) | policy | spent | refused reservations | refused below budget | ledger calls/s (peak) | ledger load | added latency p50 / p99 ms | waited > 1 s |",
    "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const r of budgetResults) {
    out.push(
      `| ${int(r.turnRate)} | ${int(r.budget)} | ${label(r.policy, r.isolatesPerLocation)} | ${int(r.spent)} (${pct(r.spent, r.budget)}) | ` +
        `${int(r.refused)} / ${int(r.reservations)} | ${int(r.refusedBelowBudget)} (${pct(r.refusedBelowBudget, r.reservations)}) | ` +
        `${int(r.ledgerCallsPerSecond)} (${int(r.ledgerPeakCallsPerSecond)}) | ${round(r.ledgerLoad, 2)} | ` +
        `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p99)} | ${pct(r.waitedOverSecond, r.reservations)} |`,
    );
  }
  out.push("");
}
console.log(out.join("\n"));

if (args.json !== undefined) {
  const file = args.json === "" ? DEFAULT_JSON : args.json;
  mkdirSync(dirname(file), { recursive: true });
  const config = {
    seed,
    locations,
    isolates: isolatesList,
    zipf: num("zipf", args.zipf),
    serviceMs,
    rates,
    seconds: secondsList,
  };
  const extra = { burstSeconds, turnFraction, budgetSeconds, leaseTtlMs: LEASE_TTL_MS };
  writeFileSync(
    file,
    `${JSON.stringify({ config: { ...config, ...extra }, world: worldSummary, rate: rateResults, budget: budgetResults, violations }, null, 2)}\n`,
  );
  log(`wrote ${file}`);
}

if (violations.length > 0) {
  console.error(`\nADMISSION VIOLATED (${violations.length}):`);
  for (const v of violations) console.error(`  ${v}`);
  process.exit(1);
}
