/**
 * A minimal PDF writer for tests: real PDF 1.4 files (catalog, page tree, one content stream per
 * page, the standard Helvetica font, a byte-exact xref table), so parser tests run on genuine PDFs
 * without committing binaries. Lines are ASCII; `(`, `)` and `\` are escaped.
 */
export function makePdf(pages: string[][], title?: string): Uint8Array {
  const objects: string[] = [];
  const pageRefs = pages.map((_, i) => `${4 + 2 * i} 0 R`).join(" ");
  objects.push(`<< /Type /Catalog /Pages 2 0 R >>`);
  objects.push(`<< /Type /Pages /Kids [${pageRefs}] /Count ${pages.length} >>`);
  objects.push(`<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>`);
  pages.forEach((lines, i) => {
    const body = lines.map((line) => `(${escapePdf(line)}) Tj 0 -16 Td`).join(" ");
    const stream = `BT /F1 12 Tf 72 720 Td ${body} ET`;
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + 2 * i} 0 R >>`,
    );
    objects.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  });
  const infoRef = title === undefined ? "" : ` /Info ${objects.length + 1} 0 R`;
  if (title !== undefined) objects.push(`<< /Title (${escapePdf(title)}) >>`);
  let pdf = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, "0")} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R${infoRef} >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(pdf);
}

function escapePdf(text: string): string {
  if (/[^\x20-\x7e]/.test(text)) throw new Error("makePdf writes ASCII text only");
  return text.replace(/[\\()]/g, (char) => `\\${char}`);
}

/**
 * A one-page PDF whose content stream is `content` as given (binary, e.g. deflated when `filter`
 * is "/FlateDecode"), for tests of huge and compressed content streams.
 */
export function makeStreamPdf(content: Uint8Array, filter?: string): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let length = 0;
  const write = (part: string | Uint8Array) => {
    const bytes = typeof part === "string" ? encoder.encode(part) : part;
    parts.push(bytes);
    length += bytes.byteLength;
  };
  const objects: Array<string | Uint8Array> = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
    content,
  ];
  write("%PDF-1.4\n");
  objects.forEach((object, i) => {
    offsets.push(length);
    write(`${i + 1} 0 obj\n`);
    if (typeof object === "string") write(object);
    else {
      write(`<< /Length ${object.byteLength}${filter ? ` /Filter ${filter}` : ""} >>\nstream\n`);
      write(object);
      write("\nendstream");
    }
    write("\nendobj\n");
  });
  const xref = length;
  let trailer = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) trailer += `${String(offset).padStart(10, "0")} 00000 n \n`;
  trailer += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  write(trailer);
  const pdf = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    pdf.set(part, at);
    at += part.byteLength;
  }
  return pdf;
}
