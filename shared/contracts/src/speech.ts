/**
 * `POST /v1/audio/speech` in OpenAI's format: the body the gateway validates, what the chat
 * worker's `speech` RPC returns, and the budget rule. Every OpenAI field is honoured or refused
 * with a 400 naming it (docs/speech.md lists each one, per provider): `model`, `input`, `voice`,
 * `response_format`, `speed` and `instructions` go to the AI layer, which refuses what the
 * tenant's model cannot do; `stream_format` is honoured at "audio" only; unknown fields are refused.
 */
import { z } from "zod";

export const SPEECH_LIMITS = {
  /** Characters of `input` (OpenAI's limit). */
  maxInputChars: 4_096,
  minSpeed: 0.25,
  maxSpeed: 4,
} as const;

export const SPEECH_FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"] as const;
export type SpeechFormat = (typeof SPEECH_FORMATS)[number];

/** OpenAI's speech model names: they mean the tenant's default speech model unless allowed by name. */
export const OPENAI_SPEECH_MODELS: readonly string[] = ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"];

/**
 * Speech is budgeted by input characters, converted to the tenant's token budget at 4 characters
 * per token, rounded up (the same rule as every token estimate here): 4,096 characters = 1,024.
 */
export const SPEECH_CHARS_PER_TOKEN = 4;

/** The budget tokens `characters` of input cost. */
export function speechTokens(characters: number): number {
  return Math.ceil(characters / SPEECH_CHARS_PER_TOKEN);
}

export const SpeechBodySchema = z.strictObject(
  {
    model: z.string().min(1).max(128),
    input: z
      .string({ error: "must be a string" })
      .min(1, "must not be empty")
      .max(SPEECH_LIMITS.maxInputChars, `must be at most ${SPEECH_LIMITS.maxInputChars} characters`),
    /** A voice name; which exist depends on the model (its provider refuses others, naming them). */
    voice: z.string({ error: "must be a voice name (custom voice objects are not supported)" }).min(1).max(64),
    /** Absent: the model's own format (local: wav; Workers AI: mp3; OpenAI-compatible: the upstream's). */
    response_format: z.enum(SPEECH_FORMATS, { error: `must be one of ${SPEECH_FORMATS.join(", ")}` }).optional(),
    speed: z
      .number()
      .min(SPEECH_LIMITS.minSpeed, `must be at least ${SPEECH_LIMITS.minSpeed}`)
      .max(SPEECH_LIMITS.maxSpeed, `must be at most ${SPEECH_LIMITS.maxSpeed}`)
      .optional(),
    /** Voice instructions: passed to models that take them, refused (400) by the others. */
    instructions: z.string().max(SPEECH_LIMITS.maxInputChars).optional(),
    stream_format: z
      .literal("audio", { error: 'only "audio" is supported (the audio is streamed as it is made; no SSE events)' })
      .optional(),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `${issue.keys.join(", ")}: not supported by this API (docs/speech.md lists every field)`
        : undefined,
  },
);
export type SpeechBody = z.output<typeof SpeechBodySchema>;

/** What the chat worker's `speech` returns: the audio as it is made, and what it is. */
export interface SpeechAudio {
  /** The encoded audio, streamed. Cancelling it stops the synthesis. */
  body: ReadableStream<Uint8Array>;
  /** e.g. "audio/wav". */
  contentType: string;
  /** The model that spoke (a tts-1 request names the tenant's default here). */
  model: string;
  /** Characters of input spoken: what the budget is charged for (`speechTokens`). */
  characters: number;
}
