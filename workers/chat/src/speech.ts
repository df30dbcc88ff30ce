/**
 * `speech` (POST /v1/audio/speech): text to audio through the AI layer with the tenant's speech
 * model (`ai.speech`), streamed back over RPC as it is made.
 *
 * Invariants:
 * - The model is one of the tenant's `ai.speech.allowed`; OpenAI's names (tts-1, tts-1-hd,
 *   gpt-4o-mini-tts) mean the tenant's default unless allowed by name; anything else is
 *   "forbidden", naming the allowed models.
 * - What the model cannot do (a format, voice, speed or instructions) is a "bad_request" naming
 *   the field (the AI layer's "unsupported"), before any audio.
 * - Every failure carries `usedTokens: 0`: nothing was spoken, so the gateway charges nothing. A
 *   stream that started is the input's characters spent, whether or not the client reads it all.
 * - The audio goes through a native pipe (as SSE bodies do, see SseWriter): a client that goes
 *   away errors the pipe, which cancels the provider's stream and so stops the synthesis.
 */
import { AiError, callMeta } from "@crispy/ai";
import {
  fail,
  OPENAI_SPEECH_MODELS,
  ok,
  type RpcError,
  type RpcResult,
  type SpeechAudio,
  type SpeechBody,
  SpeechBodySchema,
  type TenantContext,
  USED_TOKENS_DETAIL,
} from "@crispy/contracts";
import { log } from "@crispy/observability";
import { aiFromEnv } from "./ai";

const NOTHING_USED = { [USED_TOKENS_DETAIL]: 0 };

function refused(
  code: RpcError["code"],
  message: string,
  details: Record<string, unknown>,
): { ok: false; error: RpcError } {
  return fail(code, message, { ...details, ...NOTHING_USED });
}

export async function speak(
  env: ChatEnv,
  ctx: ExecutionContext,
  tenant: TenantContext,
  body: SpeechBody,
): Promise<RpcResult<SpeechAudio>> {
  // The gateway validated the body; a sibling caller with a bug gets the same 400 here.
  const parsed = SpeechBodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join(".");
    return refused("bad_request", field ? `${field}: ${issue.message}` : issue.message, { field: field || "body" });
  }
  const request = parsed.data;
  const model = speechModel(tenant, request.model);
  if (!model.ok) return model;
  try {
    const result = await aiFromEnv(env).speech(
      {
        model: model.value,
        input: request.input,
        voice: request.voice,
        ...(request.response_format !== undefined ? { format: request.response_format } : {}),
        ...(request.speed !== undefined ? { speed: request.speed } : {}),
        ...(request.instructions !== undefined ? { instructions: request.instructions } : {}),
      },
      callMeta(tenant, { worker: "chat", operation: "speech" }),
    );
    return ok({
      body: relay(result.audio, ctx, tenant),
      contentType: result.contentType,
      model: result.model,
      characters: result.characters,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof AiError && error.code === "unsupported") {
      return refused("bad_request", reason, { field: /^(\w+):/.exec(reason)?.[1] ?? "model" });
    }
    log("warn", "chat.speech_failed", { tenantId: tenant.tenantId, requestId: tenant.requestId, reason });
    return refused("ai_unavailable", `could not synthesise speech: ${reason}`, {});
  }
}

/** The model to speak with: allowed by name, or OpenAI's name for the tenant's default. */
function speechModel(tenant: TenantContext, requested: string): RpcResult<string> {
  const policy = tenant.config.ai.speech;
  if (policy.allowed.includes(requested)) return ok(requested);
  if (OPENAI_SPEECH_MODELS.includes(requested)) return ok(policy.default);
  return refused(
    "forbidden",
    `model "${requested}" is not allowed for speech in tenant "${tenant.tenantId}"; allowed: ${policy.allowed.join(", ")} (or ${OPENAI_SPEECH_MODELS.join(", ")} for the default)`,
    { field: "model", model: requested, allowed: policy.allowed },
  );
}

/** The audio through a native pipe, pumped in the background; a reader that leaves cancels the source. */
function relay(
  audio: ReadableStream<Uint8Array> | Uint8Array,
  ctx: ExecutionContext,
  tenant: TenantContext,
): ReadableStream<Uint8Array> {
  const source = audio instanceof Uint8Array ? new Response(audio).body! : audio;
  const pipe = new IdentityTransformStream();
  ctx.waitUntil(
    source.pipeTo(pipe.writable).catch((error: unknown) => {
      // A client that went away is not news; an upstream that broke mid-audio is.
      const reason = error instanceof Error ? error.message : String(error);
      log("info", "chat.speech_stream_ended", { tenantId: tenant.tenantId, requestId: tenant.requestId, reason });
    }),
  );
  return pipe.readable as ReadableStream<Uint8Array>;
}
