/**
 * Tenant erasure for the chat worker (docs/erasure.md): every ChatSession the tenant's
 * SessionDirectory lists — its messages, record and retention alarm, with any turn still running
 * aborted — then the directory itself. Bounded: one call erases at most `batchSize` sessions and
 * answers `done: false` while the directory still lists some, so a tenant with thousands of
 * sessions takes several calls, each well within a Worker's subrequest limit.
 *
 * Idempotent: a session is unlisted only after its storage is gone, so a call cut short is simply
 * repeated; erasing an erased session or directory deletes nothing more. A session's object is
 * found through the directory (Durable Objects cannot be listed), so a first turn still running
 * when the directory was erased lists its session afterwards: the job's verification counts the
 * directory again and erases once more.
 */
import {
  type EraseReport,
  type EraseRequest,
  eraseCallOf,
  ok,
  type RpcResult,
  type TenantContext,
} from "@crispy/contracts";
import { stubFor } from "@crispy/worker-kit";

/** Erases one batch of the tenant's sessions (or, with `mode: "count"`, counts what is left). */
export async function eraseTenant(
  env: ChatEnv,
  tenant: TenantContext,
  request: EraseRequest | undefined,
): Promise<RpcResult<EraseReport>> {
  const call = eraseCallOf(tenant, request);
  if (!call.ok) return call;
  const { mode, batchSize } = call.value;
  const directory = stubFor(env.SESSION_DIRECTORY, tenant.tenantId);
  if (mode === "count") {
    const sessions = await directory.size();
    return ok({ done: sessions === 0, counts: { sessions } });
  }
  const ids = await directory.oldest(batchSize);
  const messages = await Promise.all(ids.map((id) => stubFor(env.CHAT_SESSION, tenant.tenantId, id).erase()));
  if (ids.length > 0) await directory.removeMany(ids);
  // The directory itself goes once empty (it refuses while any session is listed, e.g. one whose
  // first turn committed meanwhile: that one is erased by the next call).
  const done = ids.length < batchSize && (await directory.eraseIfEmpty());
  return ok({
    done,
    counts: { sessions: ids.length, messages: messages.reduce((sum, count) => sum + count, 0) },
  });
}
