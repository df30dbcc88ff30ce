/**
 * The rules of docs/rpc-versioning.md as pure checks, shared by the snapshot test, `pnpm
 * rpc:snapshot` and the compatibility run. Each returns the problems it found, in words a
 * developer can act on; an empty list means the rule holds.
 *
 * - A worker's RPC surface only grows between versions; a method leaves it only in the version
 *   after one that listed it deprecated, and the version goes up by one with every change.
 * - Across releases: every method the previous release's workers answered is still answered,
 *   unless that release already shipped it deprecated.
 */

/** A worker's RPC surface as its `contract()` reports it (normalised by `contractOf`). */
export interface Contract {
  worker: string;
  version: number;
  methods: string[];
  deprecated: string[];
}

/** One recorded version of a worker's surface in rpc-contracts.snapshot.json. */
export interface SnapshotEntry {
  version: number;
  methods: string[];
  deprecated?: string[];
}

export interface Snapshot {
  $comment?: string;
  workers: Record<string, SnapshotEntry[]>;
}

const sorted = (values: readonly string[]): string[] => [...values].sort();
const missingFrom = (from: readonly string[], values: readonly string[]): string[] =>
  values.filter((value) => !from.includes(value));
const list = (values: readonly string[]): string => values.join(", ");

/**
 * A `contract()` reply as a Contract. Releases before versioning (v0.5.0) report only `worker`
 * and `methods`: that surface is version 1 with nothing deprecated.
 */
export function contractOf(raw: unknown): Contract {
  const reply = (raw ?? {}) as Partial<Contract>;
  if (typeof reply.worker !== "string" || !Array.isArray(reply.methods))
    throw new Error(`not a contract() reply: ${JSON.stringify(raw)?.slice(0, 200)}`);
  return {
    worker: reply.worker,
    version: typeof reply.version === "number" ? reply.version : 1,
    methods: sorted(reply.methods),
    deprecated: sorted(Array.isArray(reply.deprecated) ? reply.deprecated : []),
  };
}

/** What changed from one surface to the next, for messages. */
function changes(from: SnapshotEntry, to: { methods: string[]; deprecated?: string[] }): string {
  const added = missingFrom(from.methods, to.methods);
  const removed = missingFrom(to.methods, from.methods);
  const deprecated = missingFrom(from.deprecated ?? [], to.deprecated ?? []);
  const undeprecated = missingFrom(to.deprecated ?? [], from.deprecated ?? []);
  return [
    added.length ? `added ${list(added)}` : "",
    removed.length ? `removed ${list(removed)}` : "",
    deprecated.length ? `deprecated ${list(deprecated)}` : "",
    undeprecated.length ? `no longer deprecated ${list(undeprecated)}` : "",
  ]
    .filter(Boolean)
    .join("; ");
}

/** Problems of a step from version `from` to the next recorded one, `to`. */
function stepProblems(worker: string, from: SnapshotEntry, to: SnapshotEntry): string[] {
  const problems: string[] = [];
  if (to.version !== from.version + 1)
    problems.push(`${worker}: version ${to.version} follows ${from.version}; versions go up by one`);
  for (const method of missingFrom(to.methods, from.methods)) {
    if (!(from.deprecated ?? []).includes(method))
      problems.push(
        `${worker}: version ${to.version} removes ${method}, which version ${from.version} did not list as ` +
          "deprecated; deprecate it first (RPC_DEPRECATED), ship that, then remove it in a later release",
      );
  }
  return problems;
}

/** Problems of one worker's recorded history: versions 1, 2, … with only permitted steps. */
export function historyProblems(worker: string, entries: readonly SnapshotEntry[]): string[] {
  const problems: string[] = [];
  if (entries.length === 0) return [`${worker}: the snapshot records no version`];
  if (entries[0]!.version !== 1)
    problems.push(`${worker}: the first recorded version is ${entries[0]!.version}, not 1`);
  for (const entry of entries) {
    if (new Set(entry.methods).size !== entry.methods.length)
      problems.push(`${worker}: version ${entry.version} lists a method twice`);
    const strays = missingFrom(entry.methods, entry.deprecated ?? []);
    if (strays.length) problems.push(`${worker}: version ${entry.version} deprecates ${list(strays)}, not its methods`);
  }
  for (let i = 1; i < entries.length; i++) problems.push(...stepProblems(worker, entries[i - 1]!, entries[i]!));
  return problems;
}

const sameSurface = (entry: SnapshotEntry, contract: Contract): boolean =>
  JSON.stringify(sorted(entry.methods)) === JSON.stringify(contract.methods) &&
  JSON.stringify(sorted(entry.deprecated ?? [])) === JSON.stringify(contract.deprecated);

/**
 * Problems between a worker's contract now and its committed history (empty: the snapshot's
 * newest version is exactly this surface). The snapshot test fails on any of them.
 */
export function snapshotProblems(entries: readonly SnapshotEntry[] | undefined, contract: Contract): string[] {
  const { worker, version } = contract;
  if (!entries || entries.length === 0)
    return [
      `${worker} is not in the snapshot; record it with \`pnpm rpc:snapshot\` (a new worker starts at version 1)`,
    ];
  const problems = historyProblems(worker, entries);
  const latest = entries.at(-1)!;
  if (version === latest.version) {
    if (!sameSurface(latest, contract))
      problems.push(
        `${worker}'s RPC surface changed at version ${version} (${changes(latest, contract)}); bump ` +
          `RPC_VERSIONS.${worker} to ${version + 1} in shared/contracts/src/rpc-version.ts and run ` +
          "`pnpm rpc:snapshot` (docs/rpc-versioning.md)",
      );
  } else if (version === latest.version + 1) {
    const next = { version, methods: contract.methods, deprecated: contract.deprecated };
    const refused = stepProblems(worker, latest, next);
    problems.push(
      ...(refused.length
        ? refused
        : [`${worker} is at version ${version}, which the snapshot does not record yet; run \`pnpm rpc:snapshot\``]),
    );
  } else {
    problems.push(
      `${worker} reports version ${version}, the snapshot's newest is ${latest.version}; a version only goes up, by one`,
    );
  }
  return problems;
}

/**
 * The snapshot with every contract's current version recorded (appended when it is the next
 * version), or the problems that forbid it (a change without a bump, a removal not deprecated).
 */
export function recordContracts(
  snapshot: Snapshot,
  contracts: readonly Contract[],
): { snapshot: Snapshot; problems: string[] } {
  const problems: string[] = [];
  const workers: Record<string, SnapshotEntry[]> = {};
  for (const contract of [...contracts].sort((a, b) => a.worker.localeCompare(b.worker))) {
    const entries = snapshot.workers[contract.worker] ?? [];
    const entry: SnapshotEntry = { version: contract.version, methods: contract.methods };
    if (contract.deprecated.length) entry.deprecated = contract.deprecated;
    const latest = entries.at(-1);
    if (!latest) {
      if (contract.version !== 1) problems.push(`${contract.worker}: a new worker starts at version 1`);
      workers[contract.worker] = [entry];
      continue;
    }
    if (contract.version === latest.version + 1) {
      problems.push(...stepProblems(contract.worker, latest, entry));
      workers[contract.worker] = [...entries, entry];
      continue;
    }
    problems.push(...snapshotProblems(entries, contract));
    workers[contract.worker] = [...entries];
  }
  for (const worker of Object.keys(snapshot.workers))
    if (!workers[worker])
      problems.push(
        `${worker} is in the snapshot but no longer in the mesh; remove its entry by hand if it is retired`,
      );
  return { snapshot: { ...snapshot, workers }, problems };
}

/**
 * Problems across releases, from the bundles themselves: a method the previous release's worker
 * answered that the current one does not (unless the previous release shipped it deprecated), a
 * worker that went away, or a version that went down.
 */
export function releaseProblems(previous: readonly Contract[], current: readonly Contract[]): string[] {
  const problems: string[] = [];
  for (const before of previous) {
    const now = current.find((contract) => contract.worker === before.worker);
    if (!now) {
      problems.push(`${before.worker}: the previous release has this worker, the current mesh does not`);
      continue;
    }
    if (now.version < before.version)
      problems.push(`${before.worker}: version ${now.version} is lower than the previous release's ${before.version}`);
    for (const method of missingFrom(now.methods, before.methods)) {
      if (!before.deprecated.includes(method))
        problems.push(
          `${before.worker}.${method}: the previous release answers it and did not ship it deprecated, ` +
            "so removing it breaks that release's callers",
        );
    }
    if (now.version === before.version && !sameSurface(before, now))
      problems.push(
        `${before.worker}: the surface changed (${changes(before, now)}) but the version is still ${now.version}`,
      );
  }
  return problems;
}

/** Problems with the history itself across releases: the previous release's entries are kept as they were. */
export function historyRewritten(previous: Snapshot, current: Snapshot): string[] {
  const problems: string[] = [];
  for (const [worker, entries] of Object.entries(previous.workers)) {
    for (const entry of entries) {
      const kept = current.workers[worker]?.find((candidate) => candidate.version === entry.version);
      if (!kept || JSON.stringify(kept) !== JSON.stringify(entry))
        problems.push(`${worker}: version ${entry.version} as the previous release recorded it was changed or dropped`);
    }
  }
  return problems;
}
