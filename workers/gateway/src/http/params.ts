/**
 * Path parameters as their resource knows them: the router hands them over as they appear in the
 * URL, so `/v1/documents/a%3Ab` names the document "a:b". Percent-decoded here, once; a malformed
 * escape is no name at all (the caller answers 404).
 */
export function pathParam(params: Record<string, string | undefined>, name: string): string | null {
  const raw = params[name];
  if (raw === undefined) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}
