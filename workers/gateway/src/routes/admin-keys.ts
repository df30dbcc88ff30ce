/**
 * Operator API for API keys: `POST|GET /admin/tenants/:tenantId/keys`,
 * `PATCH|DELETE /admin/tenants/:tenantId/keys/:keyId`. Guarded by the OPERATOR_TOKEN secret and
 * rate-limited per client IP (auth/operator.ts). Never returns a stored key: the key is in the
 * creation response only. A key's limits are checked against its tenant's (400 naming the field).
 * Every change is written in one D1 batch with its audit row (actor "operator"): both or neither.
 * `kind: "publishable"` makes a publishable key for the chat widget (auth/publishable-keys.ts).
 */
import { CreateKeyBodySchema, UpdateKeyBodySchema } from "@crispy/contracts";
import { withKeyUsage } from "../admission/key-usage";
import {
  findKey,
  limitsColumn,
  listKeys,
  prepareKey,
  returnedKey,
  revokeStatement,
  updateStatement,
} from "../auth/api-keys";
import { forgetKey } from "../auth/key-cache";
import { checkKeyLimits, mergeKeyLimits } from "../auth/key-limits";
import { operatorTenantRoute } from "../auth/operator";
import { checkPublishableLimits, newKeyInput } from "../auth/publishable-keys";
import { auditRowOf } from "../audit/record";
import { auditStatement } from "../audit/store";
import { configOf } from "../config";
import { readJson } from "../http/body";
import { HttpError } from "../http/errors";
import { pathParam } from "../http/params";

function keyIdOf(params: Record<string, string | undefined>): string {
  return pathParam(params, "keyId") ?? "";
}

function noSuchKey(tenantId: string, keyId: string): HttpError {
  return new HttpError("not_found", `tenant "${tenantId}" has no key "${keyId.slice(0, 64)}"`);
}

export const createTenantKey = operatorTenantRoute(async (request, env, _ctx, state) => {
  const tenant = state.tenant!;
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, CreateKeyBodySchema);
  const input = newKeyInput(tenant, body);
  checkKeyLimits(tenant, input.limits);
  const now = new Date();
  const { created, insert } = await prepareKey(env.KEYS_DB, tenant.id, input, now);
  const audit = auditRowOf(
    state,
    {
      action: "key.created",
      target: created.id,
      details: {
        name: created.name,
        scopes: created.scopes,
        tools: created.tools,
        limits: created.limits,
        expiresAt: created.expiresAt,
        ...(created.publishable ? { kind: created.kind, publishable: created.publishable } : {}),
      },
    },
    now,
  );
  await env.KEYS_DB.batch([insert, auditStatement(env.KEYS_DB, audit)]);
  return Response.json(created, { status: 201 });
});

export const listTenantKeys = operatorTenantRoute(async (_request, env, _ctx, state) => ({
  keys: await withKeyUsage(env, state, state.tenant!, await listKeys(env.KEYS_DB, state.tenant!.id)),
}));

export const revokeTenantKey = operatorTenantRoute(async (request, env, _ctx, state) => {
  const tenantId = state.tenant!.id;
  const keyId = keyIdOf(request.params);
  const now = new Date();
  const audit = auditRowOf(state, { action: "key.revoked", target: keyId }, now);
  // Audited only when this call revoked it (revoking twice keeps the first time, and one row).
  const [revoked] = await env.KEYS_DB.batch([
    revokeStatement(env.KEYS_DB, tenantId, keyId, now),
    auditStatement(env.KEYS_DB, audit, {
      sql: "EXISTS (SELECT 1 FROM api_keys WHERE tenant_id = ? AND id = ? AND revoked_at = ?)",
      values: [tenantId, keyId, now.toISOString()],
    }),
  ]);
  const record = returnedKey(revoked!);
  if (!record) throw noSuchKey(tenantId, keyId);
  forgetKey(record.id);
  return record;
});

export const updateTenantKey = operatorTenantRoute(async (request, env, _ctx, state) => {
  const tenant = state.tenant!;
  const keyId = keyIdOf(request.params);
  const body = await readJson(request, configOf(env).MAX_BODY_BYTES, UpdateKeyBodySchema);
  const found = await findKey(env.KEYS_DB, tenant.id, keyId);
  if (!found) throw noSuchKey(tenant.id, keyId);
  const { record, storedLimits } = found;
  if (record.revokedAt) throw new HttpError("conflict", `key "${keyId}" was revoked at ${record.revokedAt}`);
  const name = body.name === undefined ? record.name : body.name;
  const limits = body.limits === undefined ? record.limits : mergeKeyLimits(record.limits, body.limits);
  checkKeyLimits(tenant, limits);
  checkPublishableLimits(record, limits);
  const audit = auditRowOf(state, {
    action: "key.updated",
    target: keyId,
    details: { before: { name: record.name, limits: record.limits }, after: { name, limits } },
  });
  const [updated] = await env.KEYS_DB.batch([
    updateStatement(env.KEYS_DB, tenant.id, keyId, { name, limits }, storedLimits),
    auditStatement(env.KEYS_DB, audit, {
      sql: "EXISTS (SELECT 1 FROM api_keys WHERE tenant_id = ? AND id = ? AND limits IS ? AND name IS ?)",
      values: [tenant.id, keyId, limitsColumn(limits), name],
    }),
  ]);
  const changed = returnedKey(updated!);
  if (!changed) throw new HttpError("conflict", `key "${keyId}" was changed meanwhile; read it again and retry`);
  // This isolate applies the new limits at once; every other within KEY_CACHE_TTL_MS.
  forgetKey(changed.id);
  return changed;
});
