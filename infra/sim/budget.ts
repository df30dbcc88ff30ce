/**
 * The budget side: one tenant's daily token budget in one QuotaLedger object (home location, the
 * ledger's lease rules in ledger.ts), chat turns arriving at every location, reserving either
 * per turn (a ledger call to reserve, another to grow, another to settle — the old design) or
 * from the real BudgetPool of each gateway isolate, driven the way GatewayTurnBudget drives it
 * (reserve, settle, then `scheduleFlush` with a virtual sleep).
 *
 * A turn: an estimate of 2,000–5,000 tokens reserved at admission; 30 % of turns reserve
 * 500–2,000 more 50–300 ms later (the real prompt after the session queue or retrieval); the
 * model call then takes 1–6 s and the turn settles 50–100 % of what it reserved.
 */
import { BudgetPool, type BudgetSource } from "../../workers/gateway/src/admission/budget-pool.ts";
import { ObjectServer, Rng, Sim, streamSeed } from "./engine.ts";
import { type LeaseAnswer, type LeaseRequest, SimLedger } from "./ledger.ts";
import { Samples } from "./stats.ts";
import { type Location, locationPicker } from "./world.ts";

export type BudgetPolicy = "per-turn" | "leased";

/** The mean tokens one turn reserves (estimate 3,500 + 30 % × 1,250). */
export const MEAN_TURN_RESERVATION = 3_500 + 0.3 * 1_250;

export interface BudgetScenario {
  policy: BudgetPolicy;
  /** Chat turns per second, all locations together. */
  turnRate: number;
  budget: number;
  seconds: number;
  isolatesPerLocation: number;
  serviceMs: number;
  world: Location[];
  seed: number;
}

export interface BudgetResult {
  policy: BudgetPolicy;
  turnRate: number;
  budget: number;
  seconds: number;
  isolatesPerLocation: number;
  turns: number;
  reservations: number;
  refused: number;
  /** Refused while the budget less what was spent and what running turns held still had room for it. */
  refusedBelowBudget: number;
  /** Tokens idle in the isolates' leases (granted, not reserved by a turn), on average over the refusals. */
  idleInLeasesAtRefusal: number;
  /** Tokens the turns used, in all. */
  spent: number;
  /** The most the ledger ever had used + leased. */
  peakCommitted: number;
  ledgerCalls: number;
  ledgerCallsPerSecond: number;
  ledgerPeakCallsPerSecond: number;
  ledgerLoad: number;
  /** Share of reservations answered without waiting for a ledger call. */
  local: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Reservations answered only after waiting more than 1 s. */
  waitedOverSecond: number;
  errors: number;
  events: number;
  wallMs: number;
  violations: string[];
}

interface Turn {
  location: Location;
  isolate: number;
  estimate: number;
  extra: number;
  extraAfterMs: number;
  durationMs: number;
  usedShare: number;
}

export async function runBudget(scenario: BudgetScenario): Promise<BudgetResult> {
  const started = performance.now();
  const { policy, turnRate, budget, seconds, isolatesPerLocation, serviceMs, world } = scenario;
  const sim = new Sim();
  const server = new ObjectServer(sim, serviceMs);
  const ledger = new SimLedger(budget);
  const call = (location: Location, request: LeaseRequest): Promise<LeaseAnswer> =>
    server.call(location.rttMs, (now) => ledger.lease(request, now));
  const pools = world.map((location) =>
    Array.from({ length: isolatesPerLocation }, () => {
      const source: BudgetSource = { lease: (request) => call(location, request) };
      return new BudgetPool(source, sim.clock);
    }),
  );

  const latency = new Samples();
  let turns = 0;
  let reservations = 0;
  let refused = 0;
  let refusedBelowBudget = 0;
  let local = 0;
  let waitedOverSecond = 0;
  let idleAtRefusals = 0;
  let spent = 0;
  let held = 0;
  let errors = 0;
  const violations: string[] = [];

  /** A reservation answered; `hold`: count its tokens as held now (per turn, the ledger did when it granted them). */
  const reserved = (since: number, tokens: number, ok: boolean, hold = true) => {
    const waited = sim.now - since;
    reservations += 1;
    latency.push(waited);
    if (waited === 0) local += 1;
    if (waited > 1000) waitedOverSecond += 1;
    if (ok) {
      if (hold) held += tokens;
    } else {
      refused += 1;
      if (budget - spent - held >= tokens) refusedBelowBudget += 1;
      if (policy === "leased") {
        for (const isolates of pools) for (const pool of isolates) idleAtRefusals += Math.max(0, pool.available);
      }
    }
  };
  // `held`: tokens reserved by running turns, until whoever holds them (the pool, or the ledger
  // per turn) has freed them; `spent`: what settled turns used.
  const settled = (reservedTokens: number, used: number) => {
    held -= reservedTokens;
    spent += used;
    if (spent > budget && violations.length < 5) violations.push(`spent ${spent} > budget ${budget} at t=${sim.now}`);
  };

  const leasedTurn = async (turn: Turn) => {
    const pool = pools[turn.location.index]![turn.isolate]!;
    const handle = pool.openTurn();
    let total = 0;
    const finish = (used: number) => {
      pool.settle(handle, used);
      settled(total, used);
      void pool.scheduleFlush(sim.sleep);
    };
    let since = sim.now;
    const first = await pool.reserve(handle, turn.estimate);
    reserved(since, turn.estimate, first.ok);
    if (!first.ok) return finish(0);
    total += turn.estimate;
    if (turn.extra > 0) {
      await sim.sleep(turn.extraAfterMs);
      since = sim.now;
      const more = await pool.reserve(handle, turn.extra);
      reserved(since, turn.extra, more.ok);
      if (!more.ok) return finish(0);
      total += turn.extra;
    }
    await sim.sleep(turn.durationMs);
    finish(Math.round(total * turn.usedShare));
  };

  // Per turn, tokens are held from the moment the ledger grants them until it frees them.
  const ledgerCall = (location: Location, request: LeaseRequest, holds: number, frees: number) =>
    server.call(location.rttMs, (now) => {
      const answer = ledger.lease(request, now);
      if (answer.ok) held += holds - frees;
      return answer;
    });

  const perTurn = async (turn: Turn) => {
    let since = sim.now;
    const open = { leaseId: null, charge: 0, size: turn.estimate, min: turn.estimate };
    const first = await ledgerCall(turn.location, open, turn.estimate, 0);
    reserved(since, turn.estimate, first.ok, false);
    if (!first.ok) return;
    const leaseId = first.value.leaseId;
    let total = turn.estimate;
    const finish = async (used: number) => {
      settled(0, used);
      const closed = await ledgerCall(turn.location, { leaseId, charge: used, size: 0, min: 0 }, 0, total);
      if (!closed.ok) errors += 1;
    };
    if (turn.extra > 0) {
      await sim.sleep(turn.extraAfterMs);
      since = sim.now;
      const want = total + turn.extra;
      const more = await ledgerCall(turn.location, { leaseId, charge: 0, size: want, min: want }, turn.extra, 0);
      reserved(since, turn.extra, more.ok, false);
      if (!more.ok) return finish(0);
      total = want;
    }
    await sim.sleep(turn.durationMs);
    await finish(Math.round(total * turn.usedShare));
  };

  const rng = new Rng(streamSeed(scenario.seed, `turns:${turnRate}`));
  const pick = locationPicker(world);
  const endMs = seconds * 1000;
  const meanGapMs = 1000 / turnRate;
  const arrive = () => {
    // Every draw is made whatever happens to the turn, so both policies see the same turns.
    const turn: Turn = {
      location: pick(rng.next()),
      isolate: rng.int(isolatesPerLocation),
      estimate: Math.round(rng.uniform(2_000, 5_000)),
      extra: 0,
      extraAfterMs: rng.uniform(50, 300),
      durationMs: rng.uniform(1_000, 6_000),
      usedShare: rng.uniform(0.5, 1),
    };
    const extra = Math.round(rng.uniform(500, 2_000));
    if (rng.next() < 0.3) turn.extra = extra;
    turns += 1;
    (policy === "leased" ? leasedTurn(turn) : perTurn(turn)).catch(() => {
      errors += 1;
    });
    const next = sim.now + rng.exponential(meanGapMs);
    if (next < endMs) sim.at(next, arrive);
  };
  sim.at(rng.exponential(meanGapMs), arrive);
  await sim.run();

  if (ledger.peakCommitted > budget) violations.push(`ledger committed ${ledger.peakCommitted} > budget ${budget}`);
  if (ledger.used > budget) violations.push(`ledger charged ${ledger.used} > budget ${budget}`);
  if (ledger.used !== spent) violations.push(`ledger charged ${ledger.used} ≠ ${spent} spent (leases left open?)`);
  if (errors > 0) violations.push(`${errors} turns failed`);
  const [p50, p90, p99, max] = latency.percentiles(50, 90, 99, 100);
  return {
    policy,
    turnRate,
    budget,
    seconds,
    isolatesPerLocation,
    turns,
    reservations,
    refused,
    refusedBelowBudget,
    idleInLeasesAtRefusal: refused > 0 ? idleAtRefusals / refused : 0,
    spent,
    peakCommitted: ledger.peakCommitted,
    ledgerCalls: server.calls,
    ledgerCallsPerSecond: server.calls / seconds,
    ledgerPeakCallsPerSecond: server.peakPerSecond(),
    ledgerLoad: (server.calls / seconds) * (serviceMs / 1000),
    local: reservations > 0 ? local / reservations : 0,
    latencyMs: { p50: p50!, p90: p90!, p99: p99!, max: max! },
    waitedOverSecond,
    errors,
    events: sim.events,
    wallMs: performance.now() - started,
    violations,
  };
}
