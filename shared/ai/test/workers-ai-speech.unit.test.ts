import { describe, expect, it } from "vitest";
import { AiError, type CallMeta, type SpeechRequest } from "../src/index";
import { type AiBinding, createWorkersAiProvider } from "../src/providers/workers-ai";

const meta: CallMeta = {
  tenantId: "acme",
  requestId: "req-1",
  gatewayId: "acme-gw",
  metadata: { operation: "speech" },
};
const AUDIO = new Uint8Array([0x49, 0x44, 0x33, 4, 0, 0, 1, 2, 3, 250]);

interface Call {
  model: string;
  input: Record<string, unknown>;
  options: Record<string, unknown>;
}

/** A fake `AI` binding that records each call exactly and answers with `answer(call)`. */
function fakeBinding(answer: (call: Call) => unknown): AiBinding & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async run(model, input, options) {
      const call = { model, input, options } as Call;
      calls.push(call);
      return answer(call);
    },
  };
}

const rawAudio = (type = "audio/mpeg") => new Response(AUDIO, { headers: { "content-type": type } });
const aura: SpeechRequest = { model: "@cf/deepgram/aura-2-en", input: "Hello from the edge.", voice: "luna" };

async function bytesOf(audio: ReadableStream<Uint8Array> | Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await new Response(audio).arrayBuffer());
}

describe("workers-ai provider: speech", () => {
  it("runs Aura through AI Gateway with the raw response, mp3 by default, and streams its body", async () => {
    const binding = fakeBinding(() => rawAudio());
    const result = await createWorkersAiProvider({ binding }).speech(aura, meta);
    expect(binding.calls).toHaveLength(1);
    const [call] = binding.calls;
    expect(call!.model).toBe("@cf/deepgram/aura-2-en");
    expect(call!.input).toEqual({ text: "Hello from the edge.", speaker: "luna", encoding: "mp3" });
    expect(call!.options).toEqual({
      gateway: { id: "acme-gw", metadata: { tenantId: "acme", requestId: "req-1", operation: "speech" } },
      returnRawResponse: true,
    });
    expect(result.audio).toBeInstanceOf(ReadableStream);
    expect(await bytesOf(result.audio)).toEqual(AUDIO);
    expect(result).toMatchObject({ contentType: "audio/mpeg", model: aura.model, characters: 20 });
  });

  it.each([
    ["mp3", { encoding: "mp3" }, "audio/mpeg"],
    ["opus", { encoding: "opus", container: "ogg" }, "audio/ogg"],
    ["aac", { encoding: "aac" }, "audio/aac"],
    ["flac", { encoding: "flac" }, "audio/flac"],
    ["wav", { encoding: "linear16", container: "wav", sample_rate: 24_000 }, "audio/wav"],
    ["pcm", { encoding: "linear16", container: "none", sample_rate: 24_000 }, "audio/pcm"],
  ] as const)("maps response_format %s to Aura's encoding", async (format, options, contentType) => {
    const binding = fakeBinding(() => new Response(AUDIO)); // no content type: the format's own
    const result = await createWorkersAiProvider({ binding }).speech(
      { ...aura, model: "@cf/deepgram/aura-1", voice: "orion", format, speed: 1 },
      meta,
    );
    expect(binding.calls[0]!.input).toEqual({ text: aura.input, speaker: "orion", ...options });
    expect(result.contentType).toBe(contentType);
  });

  it("sends MeloTTS a prompt with the voice as its language and decodes its base64 MP3", async () => {
    const binding = fakeBinding(() => ({ audio: btoa(String.fromCharCode(...AUDIO)) }));
    const result = await createWorkersAiProvider({ binding }).speech(
      { model: "@cf/myshell-ai/melotts", input: "Bonjour tout le monde.", voice: "fr", format: "mp3" },
      meta,
    );
    expect(binding.calls[0]!.input).toEqual({ prompt: "Bonjour tout le monde.", lang: "fr" });
    expect(binding.calls[0]!.options).not.toHaveProperty("returnRawResponse");
    expect(await bytesOf(result.audio)).toEqual(AUDIO);
    expect(result.contentType).toBe("audio/mpeg");
  });

  it.each([
    [
      "an OpenAI voice name on Aura",
      { voice: "alloy" },
      /^voice: @cf\/deepgram\/aura-2-en has the speakers amalthea, /,
    ],
    ["a speed other than 1", { speed: 1.5 }, /^speed: @cf\/deepgram\/aura-2-en has no speed control/],
    ["instructions", { instructions: "Whisper." }, /^instructions: /],
    ["a model that does not speak", { model: "@cf/meta/llama-3.1-8b-instruct-fast" }, /^model: /],
    ["wav on MeloTTS", { model: "@cf/myshell-ai/melotts", voice: "en", format: "wav" as const }, /^response_format: /],
    ["a speaker name on MeloTTS", { model: "@cf/myshell-ai/melotts", voice: "luna" }, /^voice: .*language code/],
  ])("refuses %s before calling the binding", async (_label, request, message) => {
    const binding = fakeBinding(() => rawAudio());
    const failure = await createWorkersAiProvider({ binding })
      .speech({ ...aura, ...request }, meta)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AiError);
    expect(failure).toMatchObject({ code: "unsupported" });
    expect((failure as AiError).message).toMatch(message);
    expect(binding.calls).toEqual([]);
  });

  it("maps upstream failures: an error status in the raw response, a thrown Workers AI code", async () => {
    const refused = fakeBinding(() => new Response('{"errors":[{"message":"bad input"}]}', { status: 400 }));
    const bad = await createWorkersAiProvider({ binding: refused })
      .speech(aura, meta)
      .catch((error: unknown) => error);
    expect(bad).toMatchObject({ code: "ai_unavailable", status: 400, retryable: false });
    expect((bad as AiError).message).toContain("bad input");

    const busy = fakeBinding(() => {
      throw new Error("3040: Capacity temporarily exceeded, please try again.");
    });
    const overloaded = await createWorkersAiProvider({ binding: busy })
      .speech(aura, meta)
      .catch((error: unknown) => error);
    expect(overloaded).toMatchObject({ code: "ai_unavailable", status: 429, retryable: true });

    const empty = fakeBinding(() => ({ response: "not audio" }));
    const odd = await createWorkersAiProvider({ binding: empty })
      .speech(aura, meta)
      .catch((error: unknown) => error);
    expect(odd).toMatchObject({ code: "bad_response" });
  });
});
