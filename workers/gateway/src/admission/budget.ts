/**
 * A chat route's budget: the TurnBudget handed to the chat worker for one request, and the rule
 * that it is closed when the call that used it is over — at once for a whole answer or a
 * failure, by the chat worker itself at the end of a stream.
 */
import type { RpcResult, TenantContext } from "@crispy/contracts";
import { poolFor } from "./isolate";
import { GatewayTurnBudget } from "./turn-budget";

export function turnBudget(env: GatewayEnv, ctx: ExecutionContext, tenant: TenantContext): GatewayTurnBudget {
  return new GatewayTurnBudget(poolFor(env, tenant), ctx);
}

/** Awaits a non-streaming call; its turn is closed whatever happened. */
export async function settled<T>(budget: GatewayTurnBudget, call: Promise<RpcResult<T>>): Promise<RpcResult<T>> {
  try {
    return await call;
  } finally {
    budget.closeIfOpen();
  }
}

/** Awaits a call that starts a stream; a failure (or exception) closes its turn, a started stream settles itself. */
export async function settledIfFailed<T>(
  budget: GatewayTurnBudget,
  call: Promise<RpcResult<T>>,
): Promise<RpcResult<T>> {
  let result: RpcResult<T> | undefined;
  try {
    result = await call;
    return result;
  } finally {
    if (!result?.ok) budget.closeIfOpen();
  }
}
