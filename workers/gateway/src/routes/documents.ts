/**
 * Document routes. `POST /v1/documents` (seed alias `POST /ingest`) takes JSON
 * `{ id?, title?, source?, url?, text, format?, metadata? }` or a multipart upload (`file` plus optional
 * `id`, `title`, `source`, `url`, `metadata` as a JSON string), up to 10 MiB, and answers `202`
 * with the ingest job (`?wait=true` waits for small documents and answers `200` once the job has
 * finished). `GET /v1/ingest/jobs/:id`, `GET /v1/documents`, `GET|DELETE /v1/documents/:id`.
 */
import {
  DOCUMENT_ID_MESSAGE,
  DocumentIdSchema,
  HTTP_URL_MESSAGE,
  isHttpUrl,
  IngestJsonBodySchema,
  MetadataSchema,
  PageQuerySchema,
  RETRIEVAL_LIMITS,
  type IngestInput,
} from "@crispy/contracts";
import { recordAudit } from "../audit/record";
import { readJson, readLimited } from "../http/body";
import { HttpError, unwrap } from "../http/errors";
import { pathParam } from "../http/params";
import { readQuery } from "../http/query";
import { requireFeature } from "./chat";
import { tenantRoute } from "./handler";

const TERMINAL = new Set(["done", "unchanged", "failed"]);

function documentIdOf(params: Record<string, string | undefined>): string {
  const id = pathParam(params, "documentId") ?? "";
  if (!DocumentIdSchema.safeParse(id).success)
    throw new HttpError("not_found", `document "${id.slice(0, 96)}" does not exist`);
  return id;
}

function optionalField(form: FormData, name: string, max: number): string | undefined {
  const value = form.get(name);
  if (value === null) return undefined;
  if (typeof value !== "string" || value.length > max)
    throw new HttpError("validation_failed", `${name}: must be text of at most ${max} characters`);
  return value;
}

async function multipartInput(request: Request): Promise<IngestInput> {
  const bytes = await readLimited(request, RETRIEVAL_LIMITS.maxUploadBytes);
  let form: FormData;
  try {
    form = await new Response(bytes, { headers: { "content-type": request.headers.get("content-type")! } }).formData();
  } catch {
    throw new HttpError("bad_request", "malformed multipart/form-data body");
  }
  // The root @cloudflare/workers-types entry types FormData.get as pre-2021 `string | null`; with our
  // compatibility date workerd returns File for file fields.
  const file = form.get("file") as unknown as File | string | null;
  if (!(file instanceof File)) throw new HttpError("validation_failed", 'file: a file field named "file" is required');
  const input: IngestInput = {
    file: {
      name: file.name || "upload",
      contentType: file.type || "application/octet-stream",
      bytes: await file.arrayBuffer(),
    },
  };
  const id = optionalField(form, "id", 96);
  if (id !== undefined) {
    if (!DocumentIdSchema.safeParse(id).success) throw new HttpError("validation_failed", `id: ${DOCUMENT_ID_MESSAGE}`);
    input.id = id;
  }
  const title = optionalField(form, "title", 300);
  if (title) input.title = title;
  const source = optionalField(form, "source", 300);
  if (source) input.source = source;
  const url = optionalField(form, "url", 2048);
  if (url) {
    if (!isHttpUrl(url)) throw new HttpError("validation_failed", `url: ${HTTP_URL_MESSAGE}`);
    input.url = url;
  }
  const metadata = optionalField(form, "metadata", 8192);
  if (metadata) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(metadata);
    } catch {
      throw new HttpError("validation_failed", "metadata: must be a JSON object");
    }
    const checked = MetadataSchema.safeParse(parsed);
    if (!checked.success) throw new HttpError("validation_failed", `metadata: ${checked.error.issues[0]!.message}`);
    input.metadata = checked.data;
  }
  return input;
}

export const ingestDocument = tenantRoute("ingest", async ({ request, env, tenant }) => {
  requireFeature(tenant.config, "ingest");
  const type = request.headers.get("content-type") ?? "";
  const input: IngestInput = /^multipart\/form-data/i.test(type)
    ? await multipartInput(request)
    : await readJson(request, RETRIEVAL_LIMITS.maxUploadBytes, IngestJsonBodySchema);
  const wait = new URL(request.url).searchParams.get("wait") === "true";
  const job = unwrap(await env.INGEST.ingest(tenant, input, { wait }));
  const status = wait && TERMINAL.has(job.state) ? 200 : 202;
  return Response.json(job, { status, headers: { location: `/v1/ingest/jobs/${job.id}` } });
});

export const ingestJob = tenantRoute("ingest", async ({ request, env, tenant }) =>
  unwrap(await env.INGEST.job(tenant, pathParam(request.params, "jobId") ?? "")),
);

export const listDocuments = tenantRoute("search", async ({ request, env, tenant }) =>
  unwrap(await env.RAG.listDocuments(tenant, readQuery(request, PageQuerySchema))),
);

export const getDocument = tenantRoute("search", async ({ request, env, tenant }) =>
  unwrap(await env.RAG.getDocument(tenant, documentIdOf(request.params))),
);

export const deleteDocument = tenantRoute("ingest", async ({ request, env, ctx, state, tenant }) => {
  const deleted = unwrap(await env.INGEST.deleteDocument(tenant, documentIdOf(request.params)));
  await recordAudit(env, ctx, state, { action: "document.deleted", target: deleted.id });
  return deleted;
});
