/**
 * `POST /v1/audio/speech` in OpenAI's format (scope `chat`, feature `chat`): the tenant's speech
 * model through the chat worker's AI layer (Workers AI through AI Gateway in production, the
 * offline local synthesiser in `pnpm dev` and tests). The audio is streamed to the client as it
 * is made, with its content type (audio/wav, audio/pcm, audio/mpeg …).
 *
 * Budget: speech is budgeted by input characters at `speechTokens` (4 characters per token,
 * rounded up), reserved before the model is called (over budget: 429) and settled at the same
 * amount once the audio starts; a refusal or failure before any audio charges nothing.
 */
import { SpeechBodySchema, speechTokens } from "@crispy/contracts";
import { routeBudget, settled } from "../admission/budget";
import { configOf } from "../config";
import { readJson } from "../http/body";
import { unwrap } from "../http/errors";
import { requireFeature } from "./chat";
import { tenantRoute } from "./handler";

export const speech = tenantRoute("chat", async ({ request, env, ctx, tenant }) => {
  requireFeature(tenant.config, "chat");
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, SpeechBodySchema);
  const budget = await routeBudget(env, ctx, tenant, "caller", speechTokens(body.input.length));
  const audio = unwrap(
    await settled(budget, env.CHAT.speech(tenant, body), (spoken) => speechTokens(spoken.characters)),
  );
  return new Response(audio.body, {
    headers: { "content-type": audio.contentType, "cache-control": "no-store", "x-speech-model": audio.model },
  });
});
