/**
 * R2 prefix helpers for the stores a worker keeps under a tenant's prefix (erasure counts and
 * deletes them a bounded page at a time).
 */

/** Objects one R2 list or delete call takes at most. */
export const R2_PAGE = 1_000;

/** How many objects are under `prefix` (every page listed). */
export async function countObjects(bucket: R2Bucket, prefix: string): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, limit: R2_PAGE, ...(cursor ? { cursor } : {}) });
    count += page.objects.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return count;
}

/** Deletes up to `limit` (≤ R2_PAGE) objects under `prefix`; `more` while any are left. */
export async function deleteObjectsPage(
  bucket: R2Bucket,
  prefix: string,
  limit: number,
): Promise<{ deleted: number; more: boolean }> {
  const page = await bucket.list({ prefix, limit: Math.min(limit, R2_PAGE) });
  const keys = page.objects.map((object) => object.key);
  if (keys.length > 0) await bucket.delete(keys);
  return { deleted: keys.length, more: page.truncated };
}
