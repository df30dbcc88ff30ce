/**
 * `POST /v1/audio/speech` against a running mesh with the official `openai` client's
 * `audio.speech.create`: a WAV (checked header, a duration that fits the input), the same bytes
 * again for the same request, `speed` honoured, OpenAI's `tts-1` mapped to the tenant's default
 * (acme: local/tts-1), and a format the local model cannot write refused with a 400 the client
 * reports as a BadRequestError naming `response_format`.
 *
 * Used by the CI smoke test; by hand against `pnpm dev`:
 *   pnpm exec tsx infra/ci/speech-check.ts [http://127.0.0.1:8787] [api key]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";

const INPUT = "Crispy Enigma speaks: this sentence comes back as a WAV file.";

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Seconds of audio in a 16-bit mono 24 kHz PCM WAV, after checking its header. */
function wavSeconds(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  check(tag(0) === "RIFF" && tag(8) === "WAVE", "not a RIFF/WAVE file");
  check(view.getUint32(4, true) === bytes.byteLength - 8, "RIFF size does not match the file");
  check(tag(12) === "fmt " && view.getUint16(20, true) === 1, "not PCM");
  check(view.getUint16(22, true) === 1 && view.getUint32(24, true) === 24_000, "not mono 24 kHz");
  check(view.getUint16(34, true) === 16, "not 16-bit");
  check(tag(36) === "data" && view.getUint32(40, true) === bytes.byteLength - 44, "data size does not match the file");
  return (bytes.byteLength - 44) / 48_000;
}

export async function speechCheck(baseUrl: string, apiKey: string): Promise<void> {
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey });
  const speak = async (request: Partial<OpenAI.Audio.SpeechCreateParams> = {}) => {
    const response = await client.audio.speech.create({
      model: "local/tts-1",
      voice: "alloy",
      input: INPUT,
      response_format: "wav",
      ...request,
    });
    check(response.headers.get("content-type") === "audio/wav", `content-type ${response.headers.get("content-type")}`);
    return new Uint8Array(await response.arrayBuffer());
  };

  const wav = await speak();
  const seconds = wavSeconds(wav);
  // The local synthesiser gives each character 30–260 ms at speed 1.
  check(
    seconds > INPUT.length * 0.03 && seconds < INPUT.length * 0.26,
    `implausible duration ${seconds} s for ${INPUT.length} characters`,
  );
  const again = await speak();
  check(again.length === wav.length && again.every((byte, i) => byte === wav[i]), "the same request gave other bytes");
  const fast = wavSeconds(await speak({ speed: 2 }));
  check(Math.abs(fast - seconds / 2) < 0.05, `speed 2 gave ${fast} s, not about ${seconds / 2} s`);
  const mapped = await speak({ model: "tts-1" });
  check(
    mapped.every((byte, i) => byte === wav[i]),
    "tts-1 did not map to the tenant's default model",
  );
  console.log(
    `openai: audio.speech.create → ${seconds.toFixed(2)} s WAV (deterministic; speed 2 → ${fast.toFixed(2)} s; tts-1 mapped)`,
  );

  const refused = await speak({ response_format: "mp3" }).then(
    () => null,
    (error: unknown) => error,
  );
  check(refused instanceof OpenAI.BadRequestError, `mp3 on the local model was not a 400: ${String(refused)}`);
  check(refused.message.includes("response_format"), `the 400 does not name response_format: ${refused.message}`);
  console.log(`openai: mp3 on local/tts-1 → 400 (${refused.message})`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const url = process.argv[2] ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  const key =
    process.argv[3] ??
    (JSON.parse(readFileSync(join(import.meta.dirname, "../../.dev/keys.json"), "utf8")) as Record<string, string>)
      .acme!;
  speechCheck(url, key).catch((error: Error) => {
    console.error(`speech check FAILED: ${error.message}`);
    process.exit(1);
  });
}
