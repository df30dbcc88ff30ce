import { describe, expect, it } from "vitest";
import { type CallMeta, createAi } from "../src/index";
import { createOpenAiCompatibleProvider, type FetchLike } from "../src/providers/openai-compatible";
import { serve } from "./helpers/streams";

const meta: CallMeta = { tenantId: "acme", requestId: "req-1", gatewayId: "acme-gw" };

interface Sent {
  url: string;
  init: RequestInit;
  body: Record<string, unknown>;
}

/** A fake `fetch` that records requests and answers with `respond(request)`. */
function fakeFetch(respond: (request: Sent) => Response): FetchLike & { requests: Sent[] } {
  const requests: Sent[] = [];
  const fn = async (url: string, init: RequestInit) => {
    const request = { url, init, body: JSON.parse(String(init.body)) as Record<string, unknown> };
    requests.push(request);
    return respond(request);
  };
  return Object.assign(fn, { requests });
}

const chunks = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5]), new Uint8Array([6])];

describe("openai-compatible provider: speech", () => {
  it("posts OpenAI's body to /audio/speech and streams the bytes back as they arrive", async () => {
    const served = serve(chunks);
    const fetch = fakeFetch(() => new Response(served.stream, { headers: { "content-type": "audio/flac" } }));
    const provider = createOpenAiCompatibleProvider({ baseUrl: "https://llm.example/v1/", apiKey: "sk-test", fetch });
    const result = await provider.speech(
      {
        model: "gpt-4o-mini-tts",
        input: "Read this.",
        voice: "coral",
        format: "flac",
        speed: 1.25,
        instructions: "Calm.",
      },
      meta,
    );
    const [request] = fetch.requests;
    expect(request?.url).toBe("https://llm.example/v1/audio/speech");
    expect(request?.init.method).toBe("POST");
    expect((request?.init.headers as Record<string, string> | undefined)?.authorization).toBe("Bearer sk-test");
    expect(request?.body).toEqual({
      model: "gpt-4o-mini-tts",
      input: "Read this.",
      voice: "coral",
      response_format: "flac",
      speed: 1.25,
      instructions: "Calm.",
    });
    expect(served.pulled()).toBe(0); // nothing read before the caller reads
    const reader = (result.audio as ReadableStream<Uint8Array>).getReader();
    expect((await reader.read()).value).toEqual(chunks[0]);
    await reader.cancel();
    expect(served.cancelled()).toBe(true);
    expect(result).toMatchObject({ contentType: "audio/flac", model: "gpt-4o-mini-tts", characters: 10 });
  });

  it("sends only the fields given, so the upstream's defaults apply", async () => {
    const fetch = fakeFetch(() => new Response(new Uint8Array([9])));
    const provider = createOpenAiCompatibleProvider({ baseUrl: "http://127.0.0.1:11434/v1", fetch });
    const result = await provider.speech({ model: "tts-1", input: "Hi", voice: "alloy" }, meta);
    expect(fetch.requests[0]?.body).toEqual({ model: "tts-1", input: "Hi", voice: "alloy" });
    expect(fetch.requests[0]?.init.headers).not.toHaveProperty("authorization");
    expect(result.contentType).toBe("audio/mpeg"); // OpenAI's default format, when the upstream names none
    expect(new Uint8Array(await new Response(result.audio).arrayBuffer())).toEqual(new Uint8Array([9]));
  });

  it("reports the upstream's refusal with its message, and retries a 503 through createAi", async () => {
    const refusing = fakeFetch(
      () => new Response(JSON.stringify({ error: { message: "Unknown voice 'zed'" } }), { status: 400 }),
    );
    const failure = await createOpenAiCompatibleProvider({ baseUrl: "https://llm.example/v1", fetch: refusing })
      .speech({ model: "tts-1", input: "Hi", voice: "zed" }, meta)
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: "ai_unavailable", status: 400, retryable: false });
    expect((failure as Error).message).toContain("Unknown voice 'zed'");

    let attempts = 0;
    const flaky = fakeFetch(() =>
      ++attempts === 1 ? new Response("busy", { status: 503 }) : new Response(new Uint8Array([7])),
    );
    const ai = createAi(createOpenAiCompatibleProvider({ baseUrl: "https://llm.example/v1", fetch: flaky }), {
      sleep: async () => {},
    });
    const result = await ai.speech({ model: "tts-1", input: "Hi", voice: "alloy" }, meta);
    expect(new Uint8Array(await new Response(result.audio).arrayBuffer())).toEqual(new Uint8Array([7]));
    expect(attempts).toBe(2);
  });
});
