/**
 * Test fixture: a small library of unrelated documents with metadata, for retrieval, search and
 * isolation tests.
 */
import type { TenantContext } from "@crispy/contracts";
import { exports } from "cloudflare:workers";
import { makeDocument } from "./documents";
import { unwrap } from "./tenant";

export const LIBRARY = {
  refunds: {
    paragraphs: [
      "Refund policy: customers may return unused items within 14 days of delivery for a full refund.",
      "Refunds are paid back to the original payment card; bank transfers take up to five business days.",
    ],
    metadata: { team: "billing", year: 2024 },
  },
  shipping: {
    paragraphs: [
      "Shipping rates: parcels under two kilograms ship for a flat fee within the country.",
      "International shipping is handled by a courier and takes between seven and ten days.",
    ],
    metadata: { team: "logistics", year: 2023 },
  },
  security: {
    paragraphs: [
      "Password rules: passwords must be at least twelve characters and are rotated every ninety days.",
      "Report a suspected phishing email to the security desk before clicking any link.",
    ],
    metadata: { team: "security", year: 2024 },
  },
} as const;

export type LibraryId = keyof typeof LIBRARY;

/** Indexes the library (or some of it) for a tenant. */
export async function indexLibrary(tenant: TenantContext, ids: LibraryId[] = ["refunds", "shipping", "security"]) {
  for (const id of ids) {
    const { paragraphs, metadata } = LIBRARY[id];
    const { doc, chunks } = await makeDocument(id, [...paragraphs], { metadata, title: `The ${id} guide` });
    unwrap(await exports.default.upsertDocument(tenant, doc, chunks));
  }
}
