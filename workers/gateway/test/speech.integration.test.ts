/**
 * `POST /v1/audio/speech` through the gateway and the chat worker's AI layer (the local
 * synthesiser, in workerd): a valid WAV streamed with its content type, deterministic bytes,
 * speed and voice changing the audio, raw pcm, OpenAI's model names mapped to the tenant's
 * default, every refusal a 4xx naming its field, the `chat` scope and feature, tenant isolation,
 * and the budget (characters reserved and settled as tokens; over budget 429; failures free).
 * Each test has a tenant of its own.
 */
import type { QuotaUsage } from "@crispy/contracts";
import { SPEECH_LIMITS } from "@crispy/contracts";
import { describe, expect, it } from "vitest";
import { bearer, call, createKey, eventually, expectError, registerTenant } from "./helpers";

const WAV_HEADER = 44;

function speak(key: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call("/v1/audio/speech", {
    method: "POST",
    headers: bearer(key, { "content-type": "application/json", ...headers }),
    body: JSON.stringify(body),
  });
}

async function audioOf(key: string, body: unknown): Promise<{ bytes: Uint8Array; response: Response }> {
  const response = await speak(key, body);
  if (response.status !== 200) expect(response.status, await response.text()).toBe(200);
  return { bytes: new Uint8Array(await response.arrayBuffer()), response };
}

const ascii = (bytes: Uint8Array, at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));

/** Checks the RIFF/WAVE/fmt/data header field by field; returns the duration in seconds. */
function wavSeconds(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(ascii(bytes, 0)).toBe("RIFF");
  expect(view.getUint32(4, true)).toBe(bytes.byteLength - 8);
  expect(ascii(bytes, 8)).toBe("WAVE");
  expect(ascii(bytes, 12)).toBe("fmt ");
  expect([view.getUint32(16, true), view.getUint16(20, true), view.getUint16(22, true)]).toEqual([16, 1, 1]);
  expect([view.getUint32(24, true), view.getUint32(28, true)]).toEqual([24_000, 48_000]);
  expect([view.getUint16(32, true), view.getUint16(34, true)]).toEqual([2, 16]);
  expect(ascii(bytes, 36)).toBe("data");
  expect(view.getUint32(40, true)).toBe(bytes.byteLength - WAV_HEADER);
  return (bytes.byteLength - WAV_HEADER) / 48_000;
}

const TEXT = "The gateway streams this sentence as audio.";
const hello = { model: "local/tts-1", input: TEXT, voice: "alloy" };

async function usageOf(key: string): Promise<QuotaUsage> {
  return (await call("/v1/usage", { headers: bearer(key) })).json<QuotaUsage>();
}

describe("POST /v1/audio/speech", () => {
  it("streams a valid WAV with its content type, the same bytes for the same request", async () => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["chat"]);
    const { bytes, response } = await audioOf(key, { ...hello, response_format: "wav" });
    expect(response.headers.get("content-type")).toBe("audio/wav");
    expect(response.headers.get("x-speech-model")).toBe("local/tts-1");
    expect(response.headers.get("x-request-id")).toBeTruthy();
    expect(wavSeconds(bytes)).toBeGreaterThan(2);
    const again = await audioOf(key, { ...hello, response_format: "wav" });
    expect(again.bytes).toEqual(bytes);
    // Without response_format the local model writes its own format, wav.
    const byDefault = await audioOf(key, hello);
    expect(byDefault.response.headers.get("content-type")).toBe("audio/wav");
    expect(byDefault.bytes).toEqual(bytes);
  });

  it("changes the audio with speed and voice, and writes raw pcm", async () => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["chat"]);
    const normal = await audioOf(key, hello);
    const fast = await audioOf(key, { ...hello, speed: 2 });
    const slow = await audioOf(key, { ...hello, speed: 0.5 });
    expect(wavSeconds(fast.bytes)).toBeCloseTo(wavSeconds(normal.bytes) / 2, 1);
    expect(wavSeconds(slow.bytes)).toBeCloseTo(wavSeconds(normal.bytes) * 2, 1);
    const onyx = await audioOf(key, { ...hello, voice: "onyx" });
    expect(onyx.bytes.byteLength).toBe(normal.bytes.byteLength); // same timing, another pitch
    expect(onyx.bytes).not.toEqual(normal.bytes);
    const pcm = await audioOf(key, { ...hello, response_format: "pcm" });
    expect(pcm.response.headers.get("content-type")).toBe("audio/pcm");
    expect(pcm.bytes).toEqual(normal.bytes.subarray(WAV_HEADER));
    const longer = await audioOf(key, { ...hello, input: `${TEXT} ${TEXT}` });
    expect(wavSeconds(longer.bytes)).toBeGreaterThan(wavSeconds(normal.bytes) * 1.9);
  });

  it("maps OpenAI's model names to the tenant's default speech model", async () => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["chat"]);
    const direct = await audioOf(key, hello);
    for (const model of ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"]) {
      const mapped = await audioOf(key, { ...hello, model });
      expect(mapped.response.headers.get("x-speech-model")).toBe("local/tts-1");
      expect(mapped.bytes).toEqual(direct.bytes);
    }
  });

  it.each([
    ["an empty input", { ...hello, input: "" }, "input", /must not be empty/],
    [
      "an input over 4,096 characters",
      { ...hello, input: "x".repeat(SPEECH_LIMITS.maxInputChars + 1) },
      "input",
      /at most 4096 characters/,
    ],
    ["no voice", { model: "local/tts-1", input: "hi" }, "voice", /./],
    ["a custom voice object", { ...hello, voice: { id: "voice_123" } }, "voice", /custom voice objects/],
    ["an unknown format", { ...hello, response_format: "ogg" }, "response_format", /mp3, opus, aac, flac, wav, pcm/],
    ["a speed under 0.25", { ...hello, speed: 0.1 }, "speed", /at least 0.25/],
    ["a speed over 4", { ...hello, speed: 4.5 }, "speed", /at most 4/],
    ["SSE streaming", { ...hello, stream_format: "sse" }, "stream_format", /only "audio"/],
    ["an unknown field", { ...hello, language: "en" }, "language", /not supported by this API/],
  ])("refuses %s with 400 validation_failed naming the field", async (_label, body, field, message) => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["chat"]);
    const error = await expectError(await speak(key, body), 400, "validation_failed");
    expect(error.message.startsWith(`${field}: `) || JSON.stringify(error.details).includes(field)).toBe(true);
    expect(error.message).toMatch(message);
  });

  it("refuses a body that is not JSON (400 invalid_json) or not sent as JSON (415), charging nothing", async () => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["chat"]);
    const post = (body: string, type: string) =>
      call("/v1/audio/speech", { method: "POST", headers: bearer(key, { "content-type": type }), body });
    await expectError(await post("{ not json", "application/json"), 400, "invalid_json");
    await expectError(await post("", "application/json"), 400, "invalid_json");
    await expectError(await post(JSON.stringify(hello), "text/plain"), 415, "unsupported_media_type");
    expect((await usageOf(key)).daily.used).toBe(0);
  });

  it.each([
    ["mp3, which the local model cannot write", { response_format: "mp3" }, "response_format", /writes wav or pcm/],
    ["opus", { response_format: "opus" }, "response_format", /not opus/],
    ["a voice the model does not have", { voice: "luna" }, "voice", /has the voices alloy/],
    ["instructions", { instructions: "Sound cheerful." }, "instructions", /does not take voice instructions/],
  ])("refuses %s with 400 bad_request naming the field", async (_label, extra, field, message) => {
    const tenant = registerTenant();
    const { key } = await createKey(tenant.id, ["chat"]);
    const error = await expectError(await speak(key, { ...hello, ...extra }), 400, "bad_request");
    expect(error.message.startsWith(`${field}: `)).toBe(true);
    expect(error.details?.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it("refuses a model outside the tenant's speech allow-list with 403, naming the allowed ones", async () => {
    const tenant = registerTenant({
      ai: { speech: { default: "local/tts-1", allowed: ["local/tts-1", "local/tts-2"] } },
    });
    const { key } = await createKey(tenant.id, ["chat"]);
    const error = await expectError(await speak(key, { ...hello, model: "@cf/deepgram/aura-2-en" }), 403, "forbidden");
    expect(error.message).toContain("local/tts-1, local/tts-2");
    const chatModel = await expectError(await speak(key, { ...hello, model: "local/echo-1" }), 403, "forbidden");
    expect(chatModel.details?.field).toBe("model");
    // A second allowed model is used by name.
    const second = await audioOf(key, { ...hello, model: "local/tts-2" });
    expect(second.response.headers.get("x-speech-model")).toBe("local/tts-2");
  });

  it("needs a key with the chat scope, the chat feature, and a key of the tenant it names", async () => {
    const tenant = registerTenant();
    await expectError(
      await call("/v1/audio/speech", {
        method: "POST",
        headers: { "x-tenant-id": tenant.id, "content-type": "application/json" },
        body: JSON.stringify(hello),
      }),
      401,
      "unauthorized",
    );
    const searchOnly = await createKey(tenant.id, ["search"]);
    await expectError(await speak(searchOnly.key, hello), 403, "forbidden");
    const noChat = registerTenant({ features: { chat: false } });
    const noChatKey = await createKey(noChat.id, ["chat"]);
    await expectError(await speak(noChatKey.key, hello), 403, "forbidden");
    // A key of one tenant naming another is refused, and nothing is spent in either.
    const other = registerTenant();
    const { key } = await createKey(tenant.id, ["chat"]);
    const otherKey = await createKey(other.id, ["chat"]);
    await expectError(await speak(key, hello, { "x-tenant-id": other.id }), 403, "forbidden");
    expect((await usageOf(otherKey.key)).daily.used).toBe(0);
    expect((await usageOf(key)).daily.used).toBe(0);
  });

  it("spends the input's characters (4 per token, rounded up) of the tenant's budget, and only that tenant's", async () => {
    const tenant = registerTenant({ budgets: { dailyTokens: 300, monthlyTokens: 1_000_000 } });
    const other = registerTenant({ budgets: { dailyTokens: 300, monthlyTokens: 1_000_000 } });
    const { key } = await createKey(tenant.id, ["chat"]);
    const otherKey = await createKey(other.id, ["chat"]);
    const input = "Forty-one characters are spoken here, ok."; // 41 characters → 11 tokens
    await audioOf(key, { ...hello, input });
    await eventually(async () => {
      const usage = await usageOf(key);
      expect(usage.openReservations).toBe(0);
      expect(usage.daily.used).toBe(Math.ceil(input.length / 4));
    });
    // Refusals and failures before any audio charge nothing.
    await expectError(await speak(key, { ...hello, response_format: "mp3" }), 400, "bad_request");
    await expectError(await speak(key, { ...hello, model: "local/tts-9" }), 403, "forbidden");
    await eventually(async () => {
      const usage = await usageOf(key);
      expect(usage.openReservations).toBe(0);
      expect(usage.daily.used).toBe(Math.ceil(input.length / 4));
    });
    // 1,200 characters are 300 tokens: more than what is left of 300.
    const over = await speak(key, { ...hello, input: "word ".repeat(240) });
    await expectError(over, 429, "budget_exceeded");
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    // The other tenant's budget is untouched: the same request fits there.
    await audioOf(otherKey.key, { ...hello, input: "word ".repeat(50) });
  });

  it("charges nothing when the model fails before any audio (502 after retries)", async () => {
    const tenant = registerTenant({
      ai: { speech: { default: "local/tts-1", allowed: ["local/tts-1", "local/tts-fail"] } },
    });
    const { key } = await createKey(tenant.id, ["chat"]);
    await expectError(await speak(key, { ...hello, model: "local/tts-fail" }), 502, "ai_unavailable");
    await eventually(async () => {
      const usage = await usageOf(key);
      expect(usage.openReservations).toBe(0);
      expect(usage.daily.used).toBe(0);
    });
  });
});
