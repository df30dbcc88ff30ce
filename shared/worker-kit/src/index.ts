/**
 * @crispy/worker-kit — what every worker of the mesh shares at run time: the internal
 * entrypoint base (ping, RPC-only fetch), Durable Object names (`stubFor`), the SSE writer,
 * configuration parsed once with zod, the per-isolate usage batcher, and small helpers (also
 * importable alone from `@crispy/worker-kit/util`, which has no runtime dependency).
 */
export { InternalEntrypoint, type PingReply, type RpcContract } from "./entrypoint";
export { tenantProblem } from "./tenant";
export { stubFor } from "./stubs";
export { countObjects, deleteObjectsPage, R2_PAGE } from "./r2";
export { SseWriter, sseFrame, type SseWriterOptions } from "./sse-writer";
export { USAGE_FLUSH_DELAY_MS, UsageBatcher, type UsageRecorder, type UsageSink, usageSink } from "./usage-batcher";
export { ConfigError, envEnum, envInt, envOptionalString, envOptionalUrl, parseEnv } from "./config";
export { base64url, errorMessage, hex, idForMessage, randomToken, sha256, sha256Hex } from "./util";
