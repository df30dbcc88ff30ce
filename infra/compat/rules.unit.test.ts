/**
 * The versioning rules (docs/rpc-versioning.md) on small histories: what the snapshot test, `pnpm
 * rpc:snapshot` and the compatibility run refuse, and what they let through.
 */
import { describe, expect, it } from "vitest";
import {
  type Contract,
  contractOf,
  historyProblems,
  historyRewritten,
  recordContracts,
  releaseProblems,
  type Snapshot,
  snapshotProblems,
} from "./rules";

const contract = (version: number, methods: string[], deprecated: string[] = []): Contract => ({
  worker: "chat",
  version,
  methods,
  deprecated,
});
const v1 = { version: 1, methods: ["history", "stream"] };

describe("a contract() reply", () => {
  it("from before versioning is version 1 with nothing deprecated", () => {
    expect(contractOf({ worker: "chat", methods: ["stream", "history"] })).toEqual(contract(1, ["history", "stream"]));
  });

  it("that is not a contract is refused", () => {
    expect(() => contractOf({ methods: [] })).toThrow(/not a contract/);
    expect(() => contractOf(null)).toThrow(/not a contract/);
  });
});

describe("the snapshot test", () => {
  it("passes when the contract is the newest recorded version", () => {
    expect(snapshotProblems([v1], contract(1, ["history", "stream"]))).toEqual([]);
  });

  it("fails when a method disappears without a version bump, naming it and the fix", () => {
    const [problem, ...rest] = snapshotProblems([v1], contract(1, ["stream"]));
    expect(rest).toEqual([]);
    expect(problem).toMatch(/chat's RPC surface changed at version 1 \(removed history\)/);
    expect(problem).toMatch(/bump RPC_VERSIONS\.chat to 2/);
  });

  it("fails when a method disappears with a bump but was never deprecated", () => {
    expect(snapshotProblems([v1], contract(2, ["stream"]))).toEqual([
      expect.stringMatching(/version 2 removes history, which version 1 did not list as deprecated/),
    ]);
  });

  it("fails when a method is added without a bump", () => {
    expect(snapshotProblems([v1], contract(1, ["history", "speech", "stream"]))).toEqual([
      expect.stringMatching(/added speech.*bump RPC_VERSIONS\.chat to 2/),
    ]);
  });

  it("asks for the new version to be recorded when the bump is allowed", () => {
    expect(snapshotProblems([v1], contract(2, ["history", "speech", "stream"]))).toEqual([
      expect.stringMatching(/version 2, which the snapshot does not record yet; run `pnpm rpc:snapshot`/),
    ]);
  });

  it("fails on a version that skips or goes down", () => {
    expect(snapshotProblems([v1], contract(3, v1.methods))).toEqual([expect.stringMatching(/only goes up, by one/)]);
    const v2 = { version: 2, methods: v1.methods };
    expect(snapshotProblems([v1, v2], contract(1, v1.methods))).toEqual([
      expect.stringMatching(/only goes up, by one/),
    ]);
  });

  it("fails for a worker the snapshot does not know", () => {
    expect(snapshotProblems(undefined, contract(1, []))).toEqual([expect.stringMatching(/not in the snapshot/)]);
  });
});

describe("a recorded history", () => {
  it("may drop a method only in the version after one that deprecated it", () => {
    const deprecating = { version: 2, methods: ["history", "stream"], deprecated: ["history"] };
    expect(historyProblems("chat", [v1, deprecating, { version: 3, methods: ["stream"] }])).toEqual([]);
    expect(historyProblems("chat", [v1, { version: 2, methods: ["stream"] }])).toEqual([
      expect.stringMatching(/removes history/),
    ]);
  });

  it("starts at 1, counts by one and deprecates only its own methods", () => {
    expect(historyProblems("chat", [{ version: 2, methods: [] }])).toEqual([
      expect.stringMatching(/first recorded version is 2/),
    ]);
    expect(historyProblems("chat", [v1, { version: 3, methods: v1.methods }])).toEqual([
      expect.stringMatching(/version 3 follows 1/),
    ]);
    expect(historyProblems("chat", [{ version: 1, methods: ["stream"], deprecated: ["gone"] }])).toEqual([
      expect.stringMatching(/deprecates gone, not its methods/),
    ]);
  });
});

describe("pnpm rpc:snapshot", () => {
  const snapshot: Snapshot = { workers: { chat: [v1] } };

  it("appends the next version", () => {
    const { snapshot: next, problems } = recordContracts(snapshot, [contract(2, ["history", "speech", "stream"])]);
    expect(problems).toEqual([]);
    expect(next.workers.chat).toEqual([v1, { version: 2, methods: ["history", "speech", "stream"] }]);
  });

  it("refuses a change without a bump and leaves the history as it was", () => {
    const { snapshot: next, problems } = recordContracts(snapshot, [contract(1, ["stream"])]);
    expect(problems).toEqual([expect.stringMatching(/changed at version 1/)]);
    expect(next.workers.chat).toEqual([v1]);
  });

  it("records a new worker at version 1 and refuses to forget a retired one", () => {
    const tools: Contract = { worker: "tools", version: 1, methods: ["list"], deprecated: [] };
    expect(recordContracts(snapshot, [contract(1, v1.methods), tools]).snapshot.workers.tools).toEqual([
      { version: 1, methods: ["list"] },
    ]);
    expect(recordContracts(snapshot, [tools]).problems).toEqual([expect.stringMatching(/chat is in the snapshot/)]);
  });
});

describe("across releases", () => {
  it("passes when the current workers answer everything the previous release did", () => {
    expect(releaseProblems([contract(1, ["stream"])], [contract(2, ["speech", "stream"])])).toEqual([]);
  });

  it("fails when a method the previous release answered is gone and it did not ship deprecated", () => {
    // A deprecation and removal within one release: the snapshot's steps are fine, the window is not.
    expect(releaseProblems([contract(1, ["history", "stream"])], [contract(3, ["stream"])])).toEqual([
      expect.stringMatching(/chat\.history: the previous release answers it and did not ship it deprecated/),
    ]);
    expect(releaseProblems([contract(2, ["history", "stream"], ["history"])], [contract(3, ["stream"])])).toEqual([]);
  });

  it("fails when a version goes down or a worker goes away", () => {
    expect(releaseProblems([contract(2, ["stream"])], [contract(1, ["stream"])])).toEqual([
      expect.stringMatching(/lower than the previous release's 2/),
    ]);
    expect(releaseProblems([contract(1, ["stream"])], [])).toEqual([expect.stringMatching(/current mesh does not/)]);
  });

  it("fails when the previous release's recorded versions were edited", () => {
    const previous: Snapshot = { workers: { chat: [v1] } };
    expect(historyRewritten(previous, { workers: { chat: [v1, { version: 2, methods: [] }] } })).toEqual([]);
    expect(historyRewritten(previous, { workers: { chat: [{ version: 1, methods: ["stream"] }] } })).toEqual([
      expect.stringMatching(/version 1 as the previous release recorded it was changed/),
    ]);
  });
});
