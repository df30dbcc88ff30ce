/**
 * PDF through `unpdf` (a serverless build of Mozilla's pdf.js; runs in workerd and Node): the text
 * of each page, in reading order as pdf.js extracts it, one section per page with its 1-based page
 * number. The library is imported on first use, so workers that never see a PDF never evaluate it.
 * Encrypted, malformed and text-less (scanned) PDFs are "bad_request": there is nothing to index.
 *
 * Bounds: pdf.js's work is not ours to make linear, so it is fenced in. A PDF whose compressed
 * streams inflate to more than MAX_PDF_INFLATED_BYTES (a decompression bomb) is refused before
 * pdf.js sees it, and one of more than MAX_PDF_PAGES pages before any page is read; pages are
 * read one after another (not all at once), each released when done, and reading stops once the
 * text is over the limit.
 */
import { RETRIEVAL_LIMITS, fail, type RpcResult } from "@crispy/contracts";
import { errorMessage } from "@crispy/worker-kit/util";
import { TextBuilder, normalizeText, oneLine, type ParsedDocument } from "./document";
import { inflatesBeyond } from "./pdf-streams";

/** Pages a PDF may have. */
export const MAX_PDF_PAGES = RETRIEVAL_LIMITS.maxPdfPages;
/** Bytes a PDF's Flate streams may inflate to in all. */
export const MAX_PDF_INFLATED_BYTES = RETRIEVAL_LIMITS.maxPdfInflatedBytes;

export async function parsePdf(bytes: Uint8Array): Promise<RpcResult<ParsedDocument>> {
  if (await inflatesBeyond(bytes, MAX_PDF_INFLATED_BYTES)) {
    const mib = MAX_PDF_INFLATED_BYTES / 1024 / 1024;
    return fail("bad_request", `the PDF's compressed streams expand to more than ${mib} MiB; the limit is ${mib} MiB`, {
      maxInflatedBytes: MAX_PDF_INFLATED_BYTES,
    });
  }
  const { getDocumentProxy, getMeta } = await import("unpdf");
  const builder = new TextBuilder();
  let title: string | null = null;
  try {
    // pdf.js takes ownership of (detaches) the buffer it is given: hand it a copy.
    const pdf = await getDocumentProxy(bytes.slice(), { verbosity: 0 });
    try {
      if (pdf.numPages > MAX_PDF_PAGES) {
        return fail("bad_request", `the PDF has ${pdf.numPages} pages; the limit is ${MAX_PDF_PAGES}`, {
          maxPages: MAX_PDF_PAGES,
        });
      }
      for (let number = 1; number <= pdf.numPages && !builder.full; number++) {
        const page = await pdf.getPage(number);
        const content = await page.getTextContent();
        // As unpdf's extractText writes a page: each item's text, a newline after line ends.
        const text = content.items.map((item) => ("str" in item ? item.str + (item.hasEOL ? "\n" : "") : "")).join("");
        page.cleanup();
        builder.block(normalizeText(text), [], number);
      }
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
  const document = builder.build(title);
  if (document.ok && document.value.sections.length === 0) {
    return fail("bad_request", "the PDF has no extractable text (a scanned PDF needs OCR first)");
  }
  return document;
}
