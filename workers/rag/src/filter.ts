/**
 * Search filters: equality on document metadata keys, plus the reserved key `docId` (the document
 * id). All entries must match. The TenantIndex turns a filter into a SQL condition over its own
 * `documents` (alias `d`) and `document_metadata` tables, so a filter can only ever narrow the
 * tenant's own index; a filter naming another tenant's document simply matches nothing.
 *
 * Metadata values are compared as JSON text, so types matter: `1`, `"1"` and `true` are different.
 */
import { RESERVED_METADATA_KEYS, RETRIEVAL_LIMITS, type Metadata } from "@crispy/contracts";

/** The filter key that means the document id rather than a metadata key. */
export const DOC_ID_KEY = "docId";

export interface SqlCondition {
  sql: string;
  params: (string | number)[];
}

type Scalar = string | number | boolean;

function isScalar(value: unknown): value is Scalar {
  return (
    typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))
  );
}

/** Why a filter is unusable (not an object of ≤ 16 string → scalar entries), or null when it is fine. */
export function filterProblem(filter: unknown): string | null {
  if (filter === undefined) return null;
  if (typeof filter !== "object" || filter === null || Array.isArray(filter)) return "filter must be an object";
  const entries = Object.entries(filter);
  if (entries.length > RETRIEVAL_LIMITS.maxMetadataKeys) {
    return `filter may have at most ${RETRIEVAL_LIMITS.maxMetadataKeys} keys`;
  }
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > RETRIEVAL_LIMITS.maxMetadataKeyChars) {
      return `filter keys must be 1-${RETRIEVAL_LIMITS.maxMetadataKeyChars} characters`;
    }
    if (RESERVED_METADATA_KEYS.has(key)) return `filter key "${key}" is a reserved name`;
    if (!isScalar(value)) return `filter "${key.slice(0, 64)}" must be a string, number or boolean`;
  }
  return null;
}

/** The filter with its keys sorted, so equal filters serialise identically (cache keys). */
export function canonicalFilter(filter: Metadata | undefined): [string, Scalar][] {
  return Object.entries(filter ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** How a metadata value is stored and compared. */
export function metadataValueText(value: Scalar): string {
  return JSON.stringify(value);
}

/** The SQL condition (over `d`, the documents table) for a filter; `1` for no filter. */
export function filterCondition(filter: Metadata | undefined): SqlCondition {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  for (const [key, value] of canonicalFilter(filter)) {
    if (key === DOC_ID_KEY) {
      if (typeof value !== "string") return { sql: "0", params: [] };
      parts.push("d.id = ?");
      params.push(value);
    } else {
      parts.push("d.id IN (SELECT doc_id FROM document_metadata WHERE key = ? AND value = ?)");
      params.push(key, metadataValueText(value));
    }
  }
  return { sql: parts.length > 0 ? parts.join(" AND ") : "1", params };
}
