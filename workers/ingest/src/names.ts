/**
 * Durable Object names, tenant id first (house rule): a job id can only reach a job of the tenant
 * that calls, so another tenant's job id simply does not exist for it.
 */
import type { IngestJob } from "./job";

/** The IngestJob `${tenantId}:${jobId}`. */
export function jobStub(env: IngestEnv, tenantId: string, jobId: string): DurableObjectStub<IngestJob> {
  return env.INGEST_JOB.getByName(`${tenantId}:${jobId}`);
}
