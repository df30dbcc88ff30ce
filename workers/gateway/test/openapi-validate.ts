/**
 * For the OpenAPI tests: read the served document, find what it says an operation answers, and
 * validate a value against one of its schemas with @cfworker/json-schema (draft 2020-12, what
 * OpenAPI 3.1 schemas are). `#/components/schemas/X` references are resolved as `$defs`.
 */
import { type OutputUnit, type Schema, Validator } from "@cfworker/json-schema";
import { expect } from "vitest";
import { call } from "./helpers";

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, Json>; responses: Record<string, ResponseObject> };
}

export interface MediaType {
  schema?: Json;
  examples?: Record<string, { summary?: string; value: unknown }>;
}

export interface ResponseObject {
  description: string;
  content?: Record<string, MediaType>;
  $ref?: string;
}

export interface OperationObject {
  operationId: string;
  security: Array<Record<string, string[]>>;
  parameters: Json[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, ResponseObject>;
}

let served: Promise<OpenApiDocument> | null = null;

/** The document `GET /openapi.json` serves (read once per test file). */
export function servedDocument(): Promise<OpenApiDocument> {
  served ??= call("/openapi.json").then(async (response) => {
    expect(response.status, await response.clone().text()).toBe(200);
    return response.json<OpenApiDocument>();
  });
  return served;
}

function asDefs(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', '"#/$defs/'));
}

/** What is wrong with `value` against `schema` (a schema of `doc`): one line per problem; empty when valid. */
export function problemsOf(doc: OpenApiDocument, schema: Json, value: unknown): string[] {
  const root = { ...(asDefs(schema) as Json), $defs: asDefs(doc.components.schemas) } as Schema;
  const result = new Validator(root, "2020-12", false).validate(value);
  return result.valid ? [] : result.errors.map((unit: OutputUnit) => `${unit.instanceLocation}: ${unit.error}`);
}

/** The operation at a router path (`/v1/sessions/:sessionId`) and method, from the document. */
export function operationAt(doc: OpenApiDocument, method: string, routerPath: string): OperationObject {
  const operation = doc.paths[routerPath.replace(/:(\w+)/g, "{$1}")]?.[method.toLowerCase()];
  if (!operation) throw new Error(`the document has no ${method} ${routerPath}`);
  return operation;
}

/** The response an operation documents for `status` (or its `default`), with `$ref`s resolved. */
export function documentedResponse(doc: OpenApiDocument, operation: OperationObject, status: number): ResponseObject {
  const response = operation.responses[String(status)] ?? operation.responses.default;
  if (!response) throw new Error(`${operation.operationId} documents no ${status} and no default`);
  if (!response.$ref) return response;
  const name = response.$ref.replace("#/components/responses/", "");
  const resolved = doc.components.responses[name];
  if (!resolved) throw new Error(`${response.$ref} does not resolve`);
  return resolved;
}

/**
 * Checks a real response against the document: its status is one the operation lists (not only
 * `default`, unless it is a 5xx), its content type is documented for that status, and a JSON
 * body validates against the documented schema. Returns the body (parsed when JSON).
 */
export async function expectDocumented(
  doc: OpenApiDocument,
  method: string,
  routerPath: string,
  response: Response,
): Promise<unknown> {
  const operation = operationAt(doc, method, routerPath);
  const text = await response.text();
  const where = `${method} ${routerPath} → ${response.status}: ${text.slice(0, 300)}`;
  if (response.status < 500) expect(Object.keys(operation.responses), where).toContain(String(response.status));
  const documented = documentedResponse(doc, operation, response.status);
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const content = documented.content ?? {};
  expect(Object.keys(content), `${where} (content-type ${type})`).toContain(type);
  if (type !== "application/json") return text;
  const body = JSON.parse(text) as unknown;
  const schema = content[type]!.schema!;
  expect(problemsOf(doc, schema, body), where).toEqual([]);
  return body;
}
