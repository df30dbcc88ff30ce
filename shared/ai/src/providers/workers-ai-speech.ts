/**
 * Workers AI text-to-speech, as Cloudflare documents each model's input and output
 * (developers.cloudflare.com/workers-ai/models/):
 * - Deepgram Aura (`@cf/deepgram/aura-1`, `@cf/deepgram/aura-2-en`, `@cf/deepgram/aura-2-es`):
 *   input `{ text, speaker, encoding, container?, sample_rate? }`, run with
 *   `returnRawResponse: true` (as Cloudflare's example does), so the audio is the response body
 *   and is streamed on as it arrives.
 * - MeloTTS (`@cf/myshell-ai/melotts`): input `{ prompt, lang }`, answer `{ audio }` (base64 MP3).
 *
 * OpenAI's fields, honoured where the model can and otherwise refused ("unsupported", naming the
 * field — never silently dropped):
 * - `voice`: Aura takes its own speaker names (e.g. "luna", "orion"); OpenAI's names ("alloy", …)
 *   are not Aura voices and are refused with the model's list. MeloTTS has one voice per language,
 *   so `voice` is the language code (`en`, `fr`, `es`, …), sent as `lang`.
 * - `response_format`: Aura — mp3 (the default) → encoding mp3; opus → opus in an ogg container;
 *   aac; flac; wav → linear16 in a wav container at 24 kHz; pcm → linear16, no container, 24 kHz
 *   (OpenAI's pcm). MeloTTS — mp3 only.
 * - `speed`: neither model has speed control, so anything but 1 is refused.
 * - `instructions`: neither takes any.
 * Any other model id is refused naming `model`.
 */
import { badResponse, errorFromStatus } from "../errors";
import { isRecord } from "../json";
import { AiError, type SpeechFormat, type SpeechRequest } from "../types";

const MELOTTS = "@cf/myshell-ai/melotts";

/** Each Aura model's speakers, from its documented input schema. */
const AURA_SPEAKERS: Readonly<Record<string, readonly string[]>> = {
  "@cf/deepgram/aura-1": [
    "angus",
    "asteria",
    "arcas",
    "orion",
    "orpheus",
    "athena",
    "luna",
    "zeus",
    "perseus",
    "helios",
    "hera",
    "stella",
  ],
  "@cf/deepgram/aura-2-en": [
    "amalthea",
    "andromeda",
    "apollo",
    "arcas",
    "aries",
    "asteria",
    "athena",
    "atlas",
    "aurora",
    "callista",
    "cora",
    "cordelia",
    "delia",
    "draco",
    "electra",
    "harmonia",
    "helena",
    "hera",
    "hermes",
    "hyperion",
    "iris",
    "janus",
    "juno",
    "jupiter",
    "luna",
    "mars",
    "minerva",
    "neptune",
    "odysseus",
    "ophelia",
    "orion",
    "orpheus",
    "pandora",
    "phoebe",
    "pluto",
    "saturn",
    "thalia",
    "theia",
    "vesta",
    "zeus",
  ],
  "@cf/deepgram/aura-2-es": [
    "sirio",
    "nestor",
    "carina",
    "celeste",
    "alvaro",
    "diana",
    "aquila",
    "selena",
    "estrella",
    "javier",
  ],
};

/** Aura's encoding options for each OpenAI format, and the content type of the result. */
const AURA_FORMATS: Readonly<Record<SpeechFormat, { options: Record<string, unknown>; contentType: string }>> = {
  mp3: { options: { encoding: "mp3" }, contentType: "audio/mpeg" },
  opus: { options: { encoding: "opus", container: "ogg" }, contentType: "audio/ogg" },
  aac: { options: { encoding: "aac" }, contentType: "audio/aac" },
  flac: { options: { encoding: "flac" }, contentType: "audio/flac" },
  wav: { options: { encoding: "linear16", container: "wav", sample_rate: 24_000 }, contentType: "audio/wav" },
  pcm: { options: { encoding: "linear16", container: "none", sample_rate: 24_000 }, contentType: "audio/pcm" },
};

/** How to call a speech model: the binding input, extra run options, the expected content type. */
export interface SpeechCall {
  input: Record<string, unknown>;
  options: Record<string, unknown>;
  contentType: string;
}

/** The binding call for `request`, or `unsupported` naming what the model cannot do. */
export function speechCall(request: SpeechRequest): SpeechCall {
  const { model } = request;
  const speakers = AURA_SPEAKERS[model];
  if (!speakers && model !== MELOTTS) {
    throw new AiError(
      "unsupported",
      `model: "${model}" is not a Workers AI speech model this platform speaks (${[...Object.keys(AURA_SPEAKERS), MELOTTS].join(", ")})`,
    );
  }
  if (request.speed !== undefined && request.speed !== 1) {
    throw new AiError("unsupported", `speed: ${model} has no speed control; send 1 or leave it out`);
  }
  if (request.instructions !== undefined) {
    throw new AiError("unsupported", `instructions: ${model} does not take voice instructions`);
  }
  const format = request.format ?? "mp3";
  if (!speakers) {
    if (format !== "mp3") throw new AiError("unsupported", `response_format: ${model} writes mp3 only, not ${format}`);
    if (!/^[a-z]{2}$/.test(request.voice)) {
      throw new AiError(
        "unsupported",
        `voice: ${model} has one voice per language; send the language code (e.g. "en", "fr"), not "${request.voice}"`,
      );
    }
    return { input: { prompt: request.input, lang: request.voice }, options: {}, contentType: "audio/mpeg" };
  }
  if (!speakers.includes(request.voice)) {
    throw new AiError("unsupported", `voice: ${model} has the speakers ${speakers.join(", ")}; not "${request.voice}"`);
  }
  const { options, contentType } = AURA_FORMATS[format];
  return {
    input: { text: request.input, speaker: request.voice, ...options },
    options: { returnRawResponse: true },
    contentType,
  };
}

/**
 * The audio in what the binding answered: a raw Response (its body, streamed; its content type
 * when it names audio), a stream or bytes, or MeloTTS's `{ audio: <base64> }`.
 */
export async function speechAudio(
  model: string,
  output: unknown,
  contentType: string,
): Promise<{ audio: ReadableStream<Uint8Array> | Uint8Array; contentType: string }> {
  if (output instanceof Response) {
    if (!output.ok) throw errorFromStatus(output.status, `${model}: ${await output.text().catch(() => "")}`);
    if (!output.body) throw badResponse(`${model} answered without audio`);
    const type = output.headers.get("content-type");
    return { audio: output.body, contentType: type?.startsWith("audio/") ? type : contentType };
  }
  if (output instanceof ReadableStream) return { audio: output as ReadableStream<Uint8Array>, contentType };
  if (output instanceof Uint8Array) return { audio: output, contentType };
  if (output instanceof ArrayBuffer) return { audio: new Uint8Array(output), contentType };
  if (isRecord(output) && typeof output.audio === "string") {
    try {
      return { audio: Uint8Array.from(atob(output.audio), (char) => char.charCodeAt(0)), contentType };
    } catch {
      throw badResponse(`${model} answered audio that is not base64`);
    }
  }
  throw badResponse(`${model} answered no audio`);
}
