/**
 * The request-rate side: one tenant-wide limit in one RateLimiter object (home location, the real
 * GCRA `lease`), requests arriving at every location, admitted either per request (one object
 * call each — the old design) or by the real LeasedLimiter of each gateway isolate.
 */
import {
  LEASE_TTL_MS,
  LeasedLimiter,
  leasePolicyFor,
  type RateSource,
} from "../../workers/gateway/src/admission/rate-lease.ts";
import { type GcraLimit, type GcraState, type LeaseResult, lease } from "../../workers/ratelimit/src/gcra.ts";
import { ObjectServer, Rng, Sim, streamSeed } from "./engine.ts";
import { maxInWindow, Samples } from "./stats.ts";
import { type Location, locationPicker } from "./world.ts";

export type RatePolicy = "per-request" | "leased";

export interface RateScenario {
  policy: RatePolicy;
  /** Offered requests per second, all locations together. */
  rate: number;
  limitPerSecond: number;
  burst: number;
  seconds: number;
  isolatesPerLocation: number;
  serviceMs: number;
  world: Location[];
  seed: number;
}

export interface WindowCheck {
  windowMs: number;
  /** The most admissions seen in any window of this length. */
  count: number;
  /** What the limit allows in such a window. */
  bound: number;
  startMs: number;
}

export interface RateResult {
  policy: RatePolicy;
  rate: number;
  limitPerSecond: number;
  burst: number;
  maxLease: number;
  seconds: number;
  isolatesPerLocation: number;
  offered: number;
  admitted: number;
  refused: number;
  /** Refused while the object still had an admission to give at that instant. */
  refusedWithCapacity: number;
  /** Refused without an object call (the isolate remembered a refusal). */
  refusedLocally: number;
  /** What one zero-latency GCRA would have admitted from the same arrivals. */
  ideal: number;
  /** What the limit allows over the whole run: burst + rate × (span + slack). */
  bound: number;
  /** The clock admissions are counted on: the object's (per-request) or the isolates' (leased). */
  admissionClock: "object" | "isolate";
  windows: WindowCheck[];
  objectCalls: number;
  objectCallsPerSecond: number;
  objectPeakCallsPerSecond: number;
  /** Offered load on the object: calls/s × service time (> 1: its queue grows without bound). */
  objectLoad: number;
  objectMaxQueueWaitMs: number;
  /** Share of requests answered without waiting for an object call. */
  local: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** The same for requests arriving after the first second (leases warmed up). */
  steadyLatencyMs: { p50: number; p90: number; p99: number; local: number };
  /** Requests answered (admitted or refused) only after waiting more than 1 s. */
  waitedOverSecond: number;
  /** The last admission, ms after the start (arrivals stop at `seconds`). */
  lastAdmissionMs: number;
  errors: number;
  events: number;
  wallMs: number;
  violations: string[];
}

/** The RateLimiter object: RateLimiter.lease's logic over the real GCRA, plus crispy-ratelimit's argument checks. */
class SimRateLimiter {
  state: GcraState | null = null;
  /** Object time of every admission granted to a per-request call. */
  readonly decisions = new Samples();

  constructor(readonly limit: GcraLimit) {}

  lease(want: number, giveBack: number, now: number): LeaseResult {
    for (const [name, n] of [
      ["want", want],
      ["giveBack", giveBack],
    ] as const) {
      if (!Number.isSafeInteger(n) || n < 0 || n > this.limit.burst) {
        throw new Error(`bad_request: ${name} must be an integer from 0 to ${this.limit.burst} (got ${n})`);
      }
    }
    const { result, state } = lease(this.state, this.limit, now, want, giveBack);
    if (result.granted > 0 || giveBack > 0 || this.state === null) this.state = state;
    return result;
  }

  /** Whether one more admission would be granted now (a pure probe; the state is not touched). */
  hasCapacity(now: number): boolean {
    return lease(this.state, this.limit, now, 1, 0).result.granted > 0;
  }
}

export async function runRate(scenario: RateScenario): Promise<RateResult> {
  const started = performance.now();
  const { policy, rate, limitPerSecond, burst, seconds, isolatesPerLocation, serviceMs, world } = scenario;
  const sim = new Sim();
  const server = new ObjectServer(sim, serviceMs);
  const limit: GcraLimit = { perMinute: Math.round(limitPerSecond * 60), burst };
  const object = new SimRateLimiter(limit);
  const policyForBurst = leasePolicyFor(burst);

  const sources = world.map(
    (location): RateSource => ({
      lease: (want, giveBack) => server.call(location.rttMs, (now) => object.lease(want, giveBack, now)),
    }),
  );
  const limiters = world.map((location) =>
    Array.from(
      { length: isolatesPerLocation },
      () => new LeasedLimiter(sources[location.index]!, policyForBurst, sim.clock),
    ),
  );

  const latency = new Samples();
  const steady = new Samples();
  let steadyLocal = 0;
  let waitedOverSecond = 0;
  const admitTimes = new Samples();
  let offered = 0;
  let admitted = 0;
  let refused = 0;
  let refusedWithCapacity = 0;
  let refusedLocally = 0;
  let local = 0;
  let errors = 0;
  // The oracle: one GCRA that sees every request the instant it arrives.
  let idealState: GcraState | null = null;
  let ideal = 0;

  const record = (allowed: boolean, since: number) => {
    const waited = sim.now - since;
    latency.push(waited);
    if (waited === 0) local += 1;
    if (waited > 1000) waitedOverSecond += 1;
    if (since >= 1000) {
      steady.push(waited);
      if (waited === 0) steadyLocal += 1;
    }
    if (allowed) {
      admitted += 1;
      if (policy === "leased") admitTimes.push(sim.now);
    } else {
      refused += 1;
      if (waited === 0) refusedLocally += 1;
      // Per request, the object itself refused: it had no capacity by construction.
      if (policy === "leased" && object.hasCapacity(sim.now)) refusedWithCapacity += 1;
    }
  };

  const arrivals = new Rng(streamSeed(scenario.seed, `arrivals:${rate}`));
  const pick = locationPicker(world);
  const endMs = seconds * 1000;
  const meanGapMs = 1000 / rate;
  const arrive = () => {
    const location = pick(arrivals.next());
    const isolate = arrivals.int(isolatesPerLocation);
    offered += 1;
    const oracle = lease(idealState, limit, sim.now, 1, 0);
    idealState = oracle.state;
    ideal += oracle.result.granted;
    const since = sim.now;
    if (policy === "leased") {
      limiters[location.index]![isolate]!.take().then(
        (take) => record(take.allowed, since),
        () => {
          errors += 1;
        },
      );
    } else {
      server
        .call(location.rttMs, (now) => {
          const result = object.lease(1, 0, now);
          if (result.granted > 0) object.decisions.push(now);
          return result;
        })
        .then(
          (grant) => record(grant.granted > 0, since),
          () => {
            errors += 1;
          },
        );
    }
    const next = sim.now + arrivals.exponential(meanGapMs);
    if (next < endMs) sim.at(next, arrive);
  };
  sim.at(arrivals.exponential(meanGapMs), arrive);
  await sim.run();

  // What the limit allows: GCRA's burst + rate × window on the object's clock; leased admissions
  // are spent on the isolates' clocks up to a lease's lifetime (LEASE_TTL_MS) after being charged.
  const perMs = limitPerSecond / 1000;
  const slackMs = policy === "leased" ? LEASE_TTL_MS : 0;
  const times = policy === "leased" ? admitTimes.values() : object.decisions.values();
  const lastMs = times.length > 0 ? times[times.length - 1]! : 0;
  const bound = burst + perMs * (lastMs + slackMs);
  const violations: string[] = [];
  if (admitted > bound + 1e-6) violations.push(`admitted ${admitted} > ${bound.toFixed(1)} allowed over the run`);
  const windows: WindowCheck[] = [];
  for (const windowMs of [10, 100, 1000, 2000]) {
    const { count, startMs } = maxInWindow(times, windowMs);
    const windowBound = burst + perMs * (windowMs + slackMs);
    windows.push({ windowMs, count, bound: windowBound, startMs });
    if (count > windowBound + 1e-6) {
      violations.push(
        `${count} admissions in ${windowMs} ms from t=${startMs.toFixed(1)} ms > ${windowBound.toFixed(1)} allowed`,
      );
    }
  }
  if (errors > 0) violations.push(`${errors} lease calls failed`);

  const [p50, p90, p99, max] = latency.percentiles(50, 90, 99, 100);
  const [s50, s90, s99] = steady.percentiles(50, 90, 99);
  return {
    policy,
    rate,
    limitPerSecond,
    burst,
    maxLease: policyForBurst.maxLease,
    seconds,
    isolatesPerLocation,
    offered,
    admitted,
    refused,
    refusedWithCapacity,
    refusedLocally,
    ideal,
    bound,
    admissionClock: policy === "leased" ? "isolate" : "object",
    windows,
    objectCalls: server.calls,
    objectCallsPerSecond: server.calls / seconds,
    objectPeakCallsPerSecond: server.peakPerSecond(),
    objectLoad: (server.calls / seconds) * (serviceMs / 1000),
    objectMaxQueueWaitMs: server.maxWaitMs,
    local: offered > 0 ? local / offered : 0,
    latencyMs: { p50: p50!, p90: p90!, p99: p99!, max: max! },
    steadyLatencyMs: { p50: s50!, p90: s90!, p99: s99!, local: steady.length > 0 ? steadyLocal / steady.length : 0 },
    waitedOverSecond,
    lastAdmissionMs: lastMs,
    errors,
    events: sim.events,
    wallMs: performance.now() - started,
    violations,
  };
}
