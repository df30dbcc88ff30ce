/**
 * The tenant's world: Cloudflare locations with a round-trip time to the tenant's home location
 * (where its Durable Objects live) and a skewed share of its traffic. Seeded and fixed for a run.
 *
 * - RTT to home: 25 % of locations 2–30 ms (same region), 45 % 30–120 ms (same continent),
 *   30 % 120–250 ms (another continent), uniform within each band; the first location is the home
 *   location itself (1 ms).
 * - Traffic share: Zipf with exponent `zipf` over a seeded random order of the locations, so the
 *   busiest locations are not the nearest ones (with 300 locations and exponent 1: the busiest
 *   gets 16 %, the top 10 together 47 %, the quietest 0.05 %).
 */
import { Rng } from "./engine";

export interface Location {
  index: number;
  rttMs: number;
  share: number;
}

export interface WorldOptions {
  locations: number;
  zipf: number;
  seed: number;
}

export function makeWorld({ locations, zipf, seed }: WorldOptions): Location[] {
  const rng = new Rng(seed);
  const world: Location[] = [];
  for (let index = 0; index < locations; index++) {
    const band = rng.next();
    let rttMs: number;
    if (index === 0) rttMs = 1;
    else if (band < 0.25) rttMs = rng.uniform(2, 30);
    else if (band < 0.7) rttMs = rng.uniform(30, 120);
    else rttMs = rng.uniform(120, 250);
    world.push({ index, rttMs, share: 0 });
  }
  // Ranks in a seeded random order (Fisher–Yates), share ∝ 1 / rank^zipf.
  const ranks = world.map((_, i) => i + 1);
  for (let i = ranks.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [ranks[i], ranks[j]] = [ranks[j]!, ranks[i]!];
  }
  const weights = ranks.map((rank) => 1 / rank ** zipf);
  const total = weights.reduce((a, b) => a + b, 0);
  for (const location of world) location.share = weights[location.index]! / total;
  return world;
}

/** Picks a location by traffic share (binary search over the cumulative shares). */
export function locationPicker(world: Location[]): (u: number) => Location {
  const cumulative: number[] = [];
  let sum = 0;
  for (const location of world) {
    sum += location.share;
    cumulative.push(sum);
  }
  return (u) => {
    const x = u * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return world[lo]!;
  };
}

/** The traffic-weighted RTT percentiles and band shares, for the report. */
export function describeWorld(world: Location[]): {
  locations: number;
  rttBands: { under30: number; from30to120: number; over120: number };
  trafficByBand: { under30: number; from30to120: number; over120: number };
  topShare: number;
  top10Share: number;
  minShare: number;
} {
  const band = (l: Location) => (l.rttMs < 30 ? "under30" : l.rttMs < 120 ? "from30to120" : "over120");
  const rttBands = { under30: 0, from30to120: 0, over120: 0 };
  const trafficByBand = { under30: 0, from30to120: 0, over120: 0 };
  for (const l of world) {
    rttBands[band(l)] += 1;
    trafficByBand[band(l)] += l.share;
  }
  const shares = world.map((l) => l.share).sort((a, b) => b - a);
  return {
    locations: world.length,
    rttBands,
    trafficByBand,
    topShare: shares[0] ?? 0,
    top10Share: shares.slice(0, 10).reduce((a, b) => a + b, 0),
    minShare: shares[shares.length - 1] ?? 0,
  };
}
