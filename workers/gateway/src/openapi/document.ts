/**
 * Builds the OpenAPI 3.1 document from the operations table (./operations.ts) with zod 4's own
 * JSON Schema output (`z.toJSONSchema`, draft 2020-12 — OpenAPI 3.1's dialect). Build time and
 * tests only: scripts/build-assets.ts writes it to public/openapi.json, which the worker serves
 * as a static asset (src/openapi/serve.ts), so neither zod's JSON Schema code nor this table is
 * in the worker's bundle.
 *
 * Every schema an operation uses becomes a component (`#/components/schemas/<Name>`): a
 * contract's `FooSchema` is `Foo`, a schema of ./schemas.ts likewise, and one without a name (a
 * page of something) `<OperationId>Response`. Request bodies are described as clients send them
 * (zod's input side: a field with a default is optional).
 */
import * as contracts from "@crispy/contracts";
import { z } from "zod";
import { ERROR_EXAMPLES } from "./examples";
import { type Auth, type Operation, OPERATIONS, type Reply, TAGS } from "./operations";
import * as schemas from "./schemas";

type Json = Record<string, unknown>;

export const OPENAPI_VERSION = "3.1.1";

const REF = "#/components/schemas/";
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Bad input (`bad_request`, `invalid_json`, `validation_failed` naming the field, `tenant_required`).",
  401: "No valid credentials (`unauthorized`).",
  403: "The key may not do this: another tenant's key, a missing scope, a disabled feature, a disallowed model or origin (`forbidden`).",
  404: "No such thing for this tenant, or no such tenant (`not_found`, `tenant_unknown`).",
  405: "Not allowed on this path (`method_not_allowed`, with `Allow`).",
  409: "Conflicts with the current state (`conflict`).",
  413: "The body is over the limit (`payload_too_large`).",
  415: "The body is not JSON (`unsupported_media_type`).",
  429: "Over a rate limit or a token budget (`rate_limited`, `budget_exceeded`), with `Retry-After`.",
  500: "A bug in the gateway (`internal`).",
  502: "Every model of the tenant failed (`ai_unavailable`).",
  503: "An internal worker failed or is overloaded (`upstream_unavailable`), with `Retry-After`.",
};

/** A zod schema as a plain JSON Schema (no `$schema`), inlined. */
function inlineJson(schema: z.ZodType): Json {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
  delete json.$schema;
  return json;
}

/** Names every schema the operations use (see the header), in one registry for `z.toJSONSchema`. */
function nameSchemas(operations: Operation[]): Map<z.ZodType, string> {
  const names = new Map<z.ZodType, string>();
  const add = (schema: z.ZodType, name: string) => {
    if (!names.has(schema)) names.set(schema, name);
  };
  for (const [name, value] of [...Object.entries(schemas), ...Object.entries(contracts)]) {
    if (value instanceof z.ZodType && name.endsWith("Schema")) add(value, name.slice(0, -"Schema".length));
  }
  const used = new Map<z.ZodType, string>();
  const use = (schema: z.ZodType, fallback: string) => {
    if (used.has(schema)) return;
    used.set(schema, names.get(schema) ?? fallback);
  };
  use(schemas.ErrorBodySchema, "ErrorBody");
  // Building blocks shared by several bodies: components, so each appears once.
  for (const shared of [contracts.SessionIdSchema, contracts.DocumentIdSchema, contracts.KeyLimitsSchema])
    use(shared, names.get(shared)!);
  for (const operation of operations) {
    const base = operation.operationId.charAt(0).toUpperCase() + operation.operationId.slice(1);
    if (operation.body) {
      use(operation.body.schema, `${base}Body`);
      if (operation.body.multipart) use(operation.body.multipart, `${base}Upload`);
    }
    for (const reply of operation.replies) {
      if (reply.json) use(reply.json.schema, `${base}Response`);
    }
  }
  return used;
}

function ref(names: Map<z.ZodType, string>, schema: z.ZodType): Json {
  const name = names.get(schema);
  if (!name) throw new Error("a schema used by an operation has no component name");
  return { $ref: `${REF}${name}` };
}

function componentSchemas(names: Map<z.ZodType, string>): Json {
  const registry = z.registry<{ id: string }>();
  for (const [schema, id] of names) registry.add(schema, { id });
  const { schemas: out } = z.toJSONSchema(registry, {
    io: "input",
    unrepresentable: "any",
    uri: (id) => `${REF}${id}`,
  }) as { schemas: Record<string, Json> };
  for (const schema of Object.values(out)) {
    // OpenAPI 3.1's dialect is the default, and a fragment-only $id is not a valid $id.
    delete schema.$schema;
    delete schema.$id;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function security(auth: Auth): Json[] {
  if (auth.kind === "none") return [];
  if (auth.kind === "operator") return [{ OperatorToken: [] }];
  if (auth.kind === "publishable") return [{ PublishableKey: [] }];
  const scopes = auth.scope ? [auth.scope] : [];
  return [{ ApiKey: scopes }, { ApiKeyHeader: scopes }, ...(auth.visitor ? [{ VisitorToken: [] }] : [])];
}

function authSentence(auth: Auth): string {
  if (auth.kind === "none") return "No authentication.";
  if (auth.kind === "operator")
    return "Operator only: `Authorization: Bearer <OPERATOR_TOKEN>`; rate-limited per client IP.";
  if (auth.kind === "publishable") return "Needs a publishable key (`pk_…`), sent from a page on one of its origins.";
  const needs = auth.scope ? `Needs an API key with the \`${auth.scope}\` scope` : "Any API key of the tenant";
  return auth.visitor ? `${needs}, or a widget visitor's token (from the page it was issued to).` : `${needs}.`;
}

/** The error statuses an operation can answer: what its auth, parameters and body imply, and its own. */
export function errorStatuses(operation: Operation): number[] {
  const statuses = new Set<number>(operation.errors ?? []);
  if (operation.auth.kind === "key") for (const status of [400, 401, 403, 404, 429, 503]) statuses.add(status);
  if (operation.auth.kind === "publishable") for (const status of [400, 401, 403, 429]) statuses.add(status);
  if (operation.auth.kind === "operator") {
    for (const status of [401, 429]) statuses.add(status);
    if (operation.path.includes(":tenantId")) statuses.add(404);
  }
  if (operation.path.includes(":")) statuses.add(404);
  if (operation.query) statuses.add(400);
  if (operation.body) for (const status of [400, 413, 415]) statuses.add(status);
  return [...statuses].sort((a, b) => a - b);
}

function parameters(operation: Operation): Json[] {
  const out: Json[] = [];
  for (const [, name] of operation.path.matchAll(/:(\w+)/g)) {
    out.push({
      name,
      in: "path",
      required: true,
      schema: inlineJson(operation.params?.[name!] ?? z.string().min(1)),
    });
  }
  if (operation.query) {
    const json = inlineJson(operation.query) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = schema;
      out.push({
        name,
        in: "query",
        required: (json.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  if (operation.auth.kind === "key") out.push({ $ref: "#/components/parameters/TenantHeader" });
  return out;
}

function headersOf(extra: Record<string, string> = {}): Json {
  const headers: Json = { "x-request-id": { $ref: "#/components/headers/RequestId" } };
  for (const [name, description] of Object.entries(extra)) headers[name] = { description, schema: { type: "string" } };
  return headers;
}

function replyOf(names: Map<z.ZodType, string>, reply: Reply): Json {
  const content: Json = {};
  if (reply.sse) content["text/event-stream"] = { schema: { type: "string", description: reply.sse } };
  if (reply.json) {
    content["application/json"] = {
      schema: ref(names, reply.json.schema),
      ...(reply.json.examples ? { examples: reply.json.examples } : {}),
    };
  }
  if (reply.text) content[reply.text] = { schema: { type: "string" } };
  for (const type of reply.binary ?? []) content[type] = {};
  return {
    description: reply.description,
    headers: headersOf(reply.headers),
    ...(Object.keys(content).length > 0 ? { content } : {}),
  };
}

function operationOf(names: Map<z.ZodType, string>, operation: Operation, byId: Map<string, Operation>): Json {
  const alias = operation.aliasOf ? byId.get(operation.aliasOf) : undefined;
  if (operation.aliasOf && !alias) throw new Error(`${operation.operationId}: aliasOf names no operation`);
  const description = [
    alias ? `Alias of \`${alias.method.toUpperCase()} ${alias.path}\` (the seeds' path).` : "",
    operation.description ?? "",
    authSentence(operation.auth),
  ]
    .filter(Boolean)
    .join(" ");
  const responses: Json = {};
  for (const reply of operation.replies) responses[String(reply.status)] = replyOf(names, reply);
  for (const status of errorStatuses(operation))
    responses[String(status)] = { $ref: `#/components/responses/E${status}` };
  responses.default = { $ref: "#/components/responses/Error" };
  const body = operation.body;
  return {
    operationId: operation.operationId,
    tags: [operation.tag],
    summary: operation.summary,
    description,
    ...(operation.auth.kind === "key" && operation.auth.scope ? { "x-required-scope": operation.auth.scope } : {}),
    security: security(operation.auth),
    parameters: parameters(operation),
    ...(body
      ? {
          requestBody: {
            required: !body.optional,
            ...(body.description ? { description: body.description } : {}),
            content: {
              "application/json": {
                schema: ref(names, body.schema),
                ...(body.examples ? { examples: body.examples } : {}),
              },
              ...(body.multipart ? { "multipart/form-data": { schema: ref(names, body.multipart) } } : {}),
            },
          },
        }
      : {}),
    responses,
  };
}

function errorResponses(): Json {
  const out: Json = {};
  const extraHeaders: Record<number, Record<string, string>> = {
    401: { "www-authenticate": "`Bearer`, on the operator API." },
    405: { allow: "The methods this path allows." },
    429: { "retry-after": "Seconds until a retry can succeed." },
    503: { "retry-after": "Seconds until a retry can succeed." },
  };
  const errorResponse = (status: number, description: string): Json => {
    const sample = ERROR_EXAMPLES[status] ?? ERROR_EXAMPLES[500]!;
    return {
      description,
      headers: headersOf(extraHeaders[status]),
      content: {
        "application/json": {
          schema: { $ref: `${REF}ErrorBody` },
          examples: {
            [sample.code]: {
              summary: sample.code,
              value: { error: { ...sample, requestId: "9b3d5f0e-6c1a-4e0b-8a7d-2f4c6e8a0b1c" } },
            },
          },
        },
      },
    };
  };
  for (const [status, description] of Object.entries(ERROR_DESCRIPTIONS))
    out[`E${status}`] = errorResponse(Number(status), description);
  out.Error = errorResponse(500, "Any other failure, in the same shape (5xx: `internal`, `ai_unavailable`, …).");
  return out;
}

const INFO_DESCRIPTION = [
  "A multi-tenant AI platform: chat with sessions, RAG search with citations, document ingestion, tools and MCP, behind one gateway.",
  "",
  "**Tenant.** Resolved from the `x-tenant-id` header, then the `Host` mapping, then the API key's own tenant. Naming a tenant is never enough: every data route needs an API key of that tenant (`Authorization: Bearer <key>` or `x-api-key`).",
  "",
  '**Errors.** Every failure has one shape, `{ "error": { "code", "message", "requestId", "details"? } }`; `requestId` equals the `x-request-id` header every response carries. Limited responses carry `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`; refusals `Retry-After`.',
  "",
  "Generated from the gateway's zod contracts (docs/api.md explains how, and how to add a route).",
].join("\n");

/** The OpenAPI 3.1 document of every route in `operations` (by default, all of them). */
export function buildOpenApi(operations: Operation[] = OPERATIONS): Json {
  const names = nameSchemas(operations);
  const byId = new Map(operations.map((operation) => [operation.operationId, operation]));
  if (byId.size !== operations.length) throw new Error("operationIds must be unique");
  const paths: Record<string, Record<string, Json>> = {};
  for (const operation of operations) {
    const path = operation.path.replace(/:(\w+)/g, "{$1}");
    paths[path] ??= {};
    if (paths[path][operation.method]) throw new Error(`${operation.method} ${operation.path} is listed twice`);
    paths[path][operation.method] = operationOf(names, operation, byId);
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: "Crispy Enigma API",
      version: "1.0.0",
      description: INFO_DESCRIPTION,
    },
    servers: [{ url: "/", description: "This gateway" }],
    tags: TAGS,
    paths,
    components: {
      schemas: componentSchemas(names),
      responses: errorResponses(),
      parameters: {
        TenantHeader: {
          name: "x-tenant-id",
          in: "header",
          required: false,
          description: "The tenant, when neither the Host nor the key should decide it; must be the key's own.",
          schema: inlineJson(contracts.TenantIdSchema),
        },
      },
      headers: {
        RequestId: {
          description: "The request's id: the caller's, if 1–128 characters of `A-Z a-z 0-9 . _ : -`, else a new UUID.",
          schema: { type: "string" },
        },
      },
      securitySchemes: {
        ApiKey: {
          type: "http",
          scheme: "bearer",
          description:
            "A tenant's API key (`ce_…`), `Authorization: Bearer <key>`. The scope an operation needs is listed in its security requirement and `x-required-scope`.",
        },
        ApiKeyHeader: { type: "apiKey", in: "header", name: "x-api-key", description: "The same key, as `x-api-key`." },
        PublishableKey: {
          type: "http",
          scheme: "bearer",
          description:
            "A publishable key (`pk_…`) for a web page's chat widget: bound to origins, `chat` (and `search`) only; it works on `POST /v1/widget/session` alone (docs/widget.md).",
        },
        VisitorToken: {
          type: "http",
          scheme: "bearer",
          description:
            "A widget visitor's short-lived token (`vt_…`) from `POST /v1/widget/session`, for `POST /v1/chat` and `POST /v1/search` from the page it was issued to.",
        },
        OperatorToken: {
          type: "http",
          scheme: "bearer",
          description: "The operator's `OPERATOR_TOKEN` secret, for the `/admin` routes only.",
        },
      },
    },
  };
}
