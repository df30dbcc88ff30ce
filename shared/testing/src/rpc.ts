/** Test helpers for RPC results (`RpcResult<T>` from @crispy/contracts). */
import type { RpcResult } from "@crispy/contracts";

/** The value of a successful RPC result, or a thrown test failure naming the error. */
export function unwrap<T>(result: RpcResult<T>): T {
  if (!result.ok) throw new Error(`RPC failed: ${JSON.stringify(result.error)}`);
  return result.value;
}

/** The error of a failed RPC result, or a thrown test failure. */
export function failure<T>(result: RpcResult<T>): Extract<RpcResult<T>, { ok: false }>["error"] {
  if (result.ok) throw new Error(`RPC unexpectedly succeeded: ${JSON.stringify(result.value)}`);
  return result.error;
}
