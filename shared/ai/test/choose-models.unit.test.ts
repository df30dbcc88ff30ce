import { describe, expect, it } from "vitest";
import { AiError, chooseModels } from "../src/index";

const policy = {
  default: "local/echo-1",
  fallbacks: ["local/echo-1-fallback", "local/echo-1"],
  allowed: ["local/echo-1", "local/echo-1-fallback", "@cf/meta/llama-3.1-8b-instruct-fast"],
};

describe("chooseModels", () => {
  it("tries the default, then the fallbacks, without duplicates", () => {
    expect(chooseModels(policy)).toEqual(["local/echo-1", "local/echo-1-fallback"]);
  });

  it("puts an allowed requested model first", () => {
    expect(chooseModels(policy, "@cf/meta/llama-3.1-8b-instruct-fast")).toEqual([
      "@cf/meta/llama-3.1-8b-instruct-fast",
      "local/echo-1-fallback",
      "local/echo-1",
    ]);
  });

  it("refuses a model outside the allow-list, naming it and the allowed ones", () => {
    let failure: unknown;
    try {
      chooseModels(policy, "gpt-4o");
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(AiError);
    expect(failure).toMatchObject({ code: "model_not_allowed", retryable: false });
    expect((failure as AiError).message).toBe(
      'model "gpt-4o" is not allowed for this tenant; allowed: local/echo-1, local/echo-1-fallback, @cf/meta/llama-3.1-8b-instruct-fast',
    );
  });
});
