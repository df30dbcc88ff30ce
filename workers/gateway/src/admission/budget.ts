/**
 * A chat route's budget: the TurnGrant handed to the chat worker for one request (the tenant's
 * budget, and the key's own budgets and token rate when it has them), and the rule
 * that it is settled exactly once when the call that used it is over — by the gateway from the
 * result for a whole answer ("caller": the reply's usage, a failure's `usedTokens`, else what was
 * reserved), by the chat worker itself at the end of a stream ("callee"; a failure to start one is
 * settled here).
 */
import { type RpcResult, type TenantContext, type TurnGrant, USED_TOKENS_DETAIL } from "@crispy/contracts";
import { HttpError } from "../http/errors";
import { poolFor } from "./isolate";
import { keyBudgetPart, keyTokenRate } from "./key-budget";
import { GatewayTurnBudget } from "./turn-budget";

export interface RouteBudget {
  budget: GatewayTurnBudget;
  grant: TurnGrant;
}

/**
 * The budget of one request. `estimate` (when the gateway can tell what the call may spend — a
 * stateless completion) is reserved here and now, so the chat worker need not call back for it;
 * over budget is a 429 before anything is called.
 */
export async function routeBudget(
  env: GatewayEnv,
  ctx: ExecutionContext,
  tenant: TenantContext,
  settledBy: TurnGrant["settledBy"],
  estimate = 0,
): Promise<RouteBudget> {
  const keyBudget = keyBudgetPart(env, tenant);
  const budget = new GatewayTurnBudget(
    poolFor(env, tenant),
    ctx,
    keyBudget ? [keyBudget] : [],
    keyTokenRate(env, tenant),
  );
  if (estimate > 0) {
    const reserved = await budget.reserve(estimate);
    if (!reserved.ok) {
      budget.closeIfOpen();
      throw HttpError.from(reserved.error);
    }
  }
  return { budget, grant: { budget, reserved: estimate, settledBy } };
}

/** Awaits a caller-settled call and settles its budget from the result (the reply's `usedOf`, or the failure's). */
export async function settled<T>(
  { budget }: RouteBudget,
  call: Promise<RpcResult<T>>,
  usedOf: (value: T) => number,
): Promise<RpcResult<T>> {
  let result: RpcResult<T> | undefined;
  try {
    result = await call;
    if (result.ok) void budget.settle(usedOf(result.value));
    else {
      const used = result.error.details?.[USED_TOKENS_DETAIL];
      if (typeof used === "number") void budget.settle(used);
    }
    return result;
  } finally {
    budget.closeIfOpen();
  }
}

/** Awaits a call that starts a stream; a failure (or exception) settles its budget here, a started stream settles itself. */
export async function settledIfFailed<T>({ budget }: RouteBudget, call: Promise<RpcResult<T>>): Promise<RpcResult<T>> {
  let result: RpcResult<T> | undefined;
  try {
    result = await call;
    return result;
  } finally {
    if (!result?.ok) budget.closeIfOpen();
  }
}
