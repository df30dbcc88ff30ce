import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configOf } from "../src/config";
import { vectorBackendFor } from "../src/vectors/backend";

describe("rag configuration", () => {
  it("names a bad vector backend or matrix bound instead of running with a default", () => {
    expect(() => configOf({ ...env, VECTOR_BACKEND: "pinecone" } as unknown as RagEnv)).toThrow(
      /VECTOR_BACKEND must be one of "durable-object", "vectorize" \(got "pinecone"\)/,
    );
    expect(() => configOf({ ...env, VECTOR_MATRIX_MAX_BYTES: "48MiB" } as unknown as RagEnv)).toThrow(
      /VECTOR_MATRIX_MAX_BYTES must be a whole number/,
    );
  });

  it("refuses the vectorize backend without its binding", () => {
    expect(() => vectorBackendFor({ ...env, VECTOR_BACKEND: "vectorize" } as unknown as RagEnv)).toThrow(
      /VECTORIZE binding is missing/,
    );
  });
});
