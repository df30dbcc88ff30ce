/**
 * The `TRACING` switch, read by every worker that records spans: "on" (the default, also when
 * unset) or "off". Off, the gateway sends only `Server-Timing: total;dur=…` and records no spans,
 * and the internal workers return no `timings`; it exists so `pnpm bench` can measure what tracing
 * costs (the `observability-cost` scenario), not as a production setting. Parsed once per env with
 * the kit's config parser: any other value fails the worker's requests with a message naming it.
 */
import { envEnum, parseEnv } from "@crispy/worker-kit/config";
import * as z from "zod/mini";

const Schema = z.object({ TRACING: envEnum(["on", "off"], "on") });

/** Whether `worker` (its short name, for the error message) records spans under `env`. */
export function tracingOn(worker: string, env: object): boolean {
  return parseEnv(worker, Schema, env).TRACING === "on";
}
