/**
 * PDF through `unpdf` (a serverless build of Mozilla's pdf.js; runs in workerd and Node): the text
 * of each page, in reading order as pdf.js extracts it, one section per page with its 1-based page
 * number. The library is imported on first use, so workers that never see a PDF never evaluate it.
 * Encrypted, malformed and text-less (scanned) PDFs are "bad_request": there is nothing to index.
 */
import { fail, ok, type RpcResult } from "@crispy/contracts";
import { errorMessage } from "@crispy/worker-kit/util";
import { TextBuilder, normalizeText, oneLine, type ParsedDocument } from "./document";

export async function parsePdf(bytes: Uint8Array): Promise<RpcResult<ParsedDocument>> {
  const { extractText, getDocumentProxy, getMeta } = await import("unpdf");
  let pages: string[];
  let title: string | null = null;
  try {
    // pdf.js takes ownership of (detaches) the buffer it is given: hand it a copy.
    const pdf = await getDocumentProxy(bytes.slice(), { verbosity: 0 });
    try {
      pages = (await extractText(pdf, { mergePages: false })).text;
      const { info } = await getMeta(pdf).catch(() => ({ info: {} as Record<string, unknown> }));
      if (typeof info.Title === "string") title = oneLine(info.Title) || null;
    } finally {
      await pdf.destroy();
    }
  } catch (error) {
    const reason = errorMessage(error);
    if (error instanceof Error && error.name === "PasswordException") {
      return fail("bad_request", "the PDF is encrypted; upload an unprotected copy");
    }
    return fail("bad_request", `the PDF could not be read: ${reason}`);
  }
  const builder = new TextBuilder();
  for (const [index, page] of pages.entries()) builder.block(normalizeText(page), [], index + 1);
  const document = builder.build(title);
  if (document.sections.length === 0) {
    return fail("bad_request", "the PDF has no extractable text (a scanned PDF needs OCR first)");
  }
  return ok(document);
}
