import { describe, expect, it } from "vitest";
import { AiError, type CallMeta, createLocalProvider, type SpeechRequest } from "../src/index";

const meta: CallMeta = { tenantId: "acme", requestId: "req-1", gatewayId: "acme-gw" };
const local = createLocalProvider();
const base: SpeechRequest = { model: "local/tts-1", input: "Hello, world. Speech in 2026!", voice: "alloy" };

async function speak(request: Partial<SpeechRequest> = {}) {
  const result = await local.speech({ ...base, ...request }, meta);
  return { ...result, bytes: new Uint8Array(await new Response(result.audio).arrayBuffer()) };
}

const ascii = (bytes: Uint8Array, at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));

/** Checks a 16-bit mono 24 kHz PCM WAV file field by field and returns its samples. */
function parseWav(bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(ascii(bytes, 0)).toBe("RIFF");
  expect(view.getUint32(4, true)).toBe(bytes.byteLength - 8);
  expect(ascii(bytes, 8)).toBe("WAVE");
  expect(ascii(bytes, 12)).toBe("fmt ");
  expect(view.getUint32(16, true)).toBe(16);
  expect(view.getUint16(20, true)).toBe(1); // PCM
  expect(view.getUint16(22, true)).toBe(1); // mono
  expect(view.getUint32(24, true)).toBe(24_000);
  expect(view.getUint32(28, true)).toBe(48_000);
  expect(view.getUint16(32, true)).toBe(2);
  expect(view.getUint16(34, true)).toBe(16);
  expect(ascii(bytes, 36)).toBe("data");
  expect(view.getUint32(40, true)).toBe(bytes.byteLength - 44);
  return pcmSamples(bytes.subarray(44));
}

function pcmSamples(bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Int16Array.from({ length: bytes.byteLength / 2 }, (_, i) => view.getInt16(i * 2, true));
}

/** Seconds of audio in a sample count at 24 kHz. */
const seconds = (samples: Int16Array) => samples.length / 24_000;

function zeroCrossings(samples: Int16Array): number {
  let count = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i - 1]! < 0 !== samples[i]! < 0) count++;
  return count;
}

describe("local provider: speech", () => {
  it("writes a valid 16-bit mono 24 kHz WAV by default, with sound in it", async () => {
    const { bytes, contentType, model, characters } = await speak();
    expect(contentType).toBe("audio/wav");
    expect(model).toBe("local/tts-1");
    expect(characters).toBe(base.input.length);
    const samples = parseWav(bytes);
    expect(seconds(samples)).toBeGreaterThan(1);
    expect(Math.max(...samples.map(Math.abs))).toBeGreaterThan(5_000);
    expect(samples.filter((value) => value === 0).length).toBeGreaterThan(0); // the pauses
  });

  it("is deterministic: the same request gives the same bytes", async () => {
    const first = await speak({ input: "Determinism, please: 42 voices & accents (é, ß)." });
    const second = await speak({ input: "Determinism, please: 42 voices & accents (é, ß)." });
    expect(second.bytes).toEqual(first.bytes);
    const other = await speak({ input: "Determinism, please: 43 voices & accents (é, ß)." });
    expect(other.bytes).not.toEqual(first.bytes);
  });

  it("grows with the input and shrinks with speed", async () => {
    const short = parseWav((await speak({ input: "Short." })).bytes);
    const long = parseWav((await speak({ input: "Short. And then a much longer sentence follows it." })).bytes);
    expect(seconds(long)).toBeGreaterThan(seconds(short) * 3);
    const normal = parseWav((await speak()).bytes);
    const fast = parseWav((await speak({ speed: 2 })).bytes);
    const slow = parseWav((await speak({ speed: 0.5 })).bytes);
    expect(seconds(fast)).toBeCloseTo(seconds(normal) / 2, 1);
    expect(seconds(slow)).toBeCloseTo(seconds(normal) * 2, 1);
  });

  it("gives each voice its own pitch: a digit is a pure tone at the voice's fundamental", async () => {
    const low = parseWav((await speak({ input: "00000", voice: "onyx" })).bytes);
    const high = parseWav((await speak({ input: "00000", voice: "shimmer" })).bytes);
    expect(low.length).toBe(high.length);
    // A sine crosses zero twice per period: 5 × 80 ms at onyx's 85 Hz ≈ 68, at shimmer's 240 Hz ≈ 192.
    const ratio = zeroCrossings(high) / zeroCrossings(low);
    expect(ratio).toBeGreaterThan((240 / 85) * 0.9);
    expect(ratio).toBeLessThan((240 / 85) * 1.1);
    const voices = await Promise.all(["alloy", "echo", "nova"].map((voice) => speak({ voice })));
    expect(new Set(voices.map(({ bytes }) => bytes.join(","))).size).toBe(3);
  });

  it("writes raw pcm: the WAV's samples without the header", async () => {
    const wav = await speak();
    const pcm = await speak({ format: "pcm" });
    expect(pcm.contentType).toBe("audio/pcm");
    expect(pcm.bytes).toEqual(wav.bytes.subarray(44));
  });

  it("streams long input in chunks, generated as they are read", async () => {
    const result = await local.speech({ ...base, input: "Long input is streamed. ".repeat(40) }, meta);
    const reader = (result.audio as ReadableStream<Uint8Array>).getReader();
    const header = await reader.read();
    expect(header.value?.byteLength).toBe(44);
    const first = await reader.read();
    expect(first.value?.byteLength).toBe(24_000); // half a second of samples
    await reader.cancel();
  });

  it.each([
    ["mp3", { format: "mp3" as const }, /^response_format: local\/tts-1 writes wav or pcm, not mp3/],
    ["opus", { format: "opus" as const }, /^response_format: /],
    ["an unknown voice", { voice: "luna" }, /^voice: local\/tts-1 has the voices alloy, .*; not "luna"/],
    ["instructions", { instructions: "Speak cheerfully." }, /^instructions: /],
    ["a speed out of range", { speed: 8 }, /^speed: /],
    ["a chat model", { model: "local/echo-1" }, /^model: "local\/echo-1" is not a speech model/],
  ])("refuses %s as unsupported, naming the field", async (_label, request, message) => {
    const failure = await local.speech({ ...base, ...request }, meta).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AiError);
    expect(failure).toMatchObject({ code: "unsupported", retryable: false });
    expect((failure as AiError).message).toMatch(message);
  });

  it("simulates an outage for a local/tts-* model named fail", async () => {
    const failure = await local.speech({ ...base, model: "local/tts-fail" }, meta).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "ai_unavailable", retryable: true });
  });
});
