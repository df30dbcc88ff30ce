/**
 * Identifiers minted by the ingest worker. Random parts are UUID hex, so ids reveal nothing about
 * other jobs or tenants. Document ids match the contracts' DOCUMENT_ID_PATTERN.
 */
import { DOCUMENT_ID_PATTERN } from "@crispy/contracts";

export const JOB_ID_PATTERN = /^job_[0-9a-f]{32}$/;

/** A new job id: `job_` + 32 hex characters. */
export function newJobId(): string {
  return `job_${crypto.randomUUID().replaceAll("-", "")}`;
}

/**
 * A document id for an upload that named none: a slug of its title or file name (readable in
 * listings and R2 paths) plus 8 random hex characters, so two uploads never collide.
 */
export function newDocumentId(name: string): string {
  const slug = name
    .replace(/\.[A-Za-z0-9]{1,8}$/, "")
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/, "");
  const id = `${slug || "doc"}-${crypto.randomUUID().slice(0, 8)}`;
  if (!DOCUMENT_ID_PATTERN.test(id)) throw new Error(`minted an invalid document id "${id}"`);
  return id;
}
