import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configOf } from "../src/config";

describe("ingest configuration", () => {
  it("names a retry base that is not a whole number instead of retrying at once", () => {
    expect(() => configOf({ ...env, INGEST_RETRY_BASE_MS: "2s" } as unknown as IngestEnv)).toThrow(
      'crispy-ingest configuration: INGEST_RETRY_BASE_MS must be a whole number (got "2s")',
    );
  });
});
