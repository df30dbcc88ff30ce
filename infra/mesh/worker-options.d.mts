// Types of worker-options.mjs (plain ESM so Node scripts use it without a build step).
import type { WorkerOptions } from "miniflare";
export declare const repoRoot: string;
export declare const INTERNAL_WORKERS: string[];
export declare function ensureBuilt(name: string): string;
export declare function builtWorkerOptions(
  name: string,
  options?: { bindings?: Record<string, unknown>; from?: string },
): WorkerOptions & { name: string };
export declare function calleeWorkerOptions(
  name: string,
  overrides?: Record<string, { bindings?: Record<string, unknown> }>,
): Array<WorkerOptions & { name: string }>;
