/**
 * How much a PDF's Flate-compressed streams expand to, measured before pdf.js sees the file. A
 * 10 MiB upload of compressed blank space inflates to ~10 GB, which pdf.js would decode (and hold
 * in memory) to find no text: a decompression bomb. The file is scanned once for `stream` …
 * `endstream` bodies whose first filter is FlateDecode; each is inflated and counted (at most
 * 16 MiB held at once), not kept, and counting stops as soon as the total is over the budget.
 *
 * Not measured: streams whose first filter is another one (ASCIIHex/ASCII85 before Flate, LZW,
 * RunLength), and encrypted streams, which do not inflate as they are stored.
 */
import { constants, createInflate, inflateSync } from "node:zlib";

/** Output inflated at once at most (memory); a stream that inflates to more is counted streamed. */
const AT_ONCE_BYTES = 16 * 1024 * 1024;
/** How far before `stream` its dictionary is looked for. */
const DICTIONARY_WINDOW = 4096;
const FLATE_FIRST = /\/Filter\s*\[?\s*\/(?:FlateDecode|Fl)(?![A-Za-z])/;

/** True when the Flate streams of the PDF inflate to more than `budget` bytes in all. */
export async function inflatesBeyond(bytes: Uint8Array, budget: number): Promise<boolean> {
  // One character per byte, so string offsets are byte offsets.
  const file = new TextDecoder("latin1").decode(bytes);
  let total = 0;
  let from = 0;
  // Where the previous stream body ended: dictionaries are looked for after it, so every byte is
  // looked at a bounded number of times.
  let previousEnd = 0;
  for (;;) {
    const keyword = file.indexOf("stream", from);
    if (keyword === -1) return false;
    from = keyword + 6;
    const windowStart = Math.max(previousEnd, keyword - DICTIONARY_WINDOW);
    const before = file.slice(windowStart, keyword);
    if (before.endsWith("end") || !before.trimEnd().endsWith(">>")) continue;
    const dictionary = before.slice(Math.max(0, before.lastIndexOf("obj")));
    let start = from;
    if (file[start] === "\r") start++;
    if (file[start] === "\n") start++;
    const end = file.indexOf("endstream", start);
    const stop = end === -1 ? file.length : end;
    from = stop;
    previousEnd = stop;
    if (!FLATE_FIRST.test(dictionary)) continue;
    if (stop > start) total += await inflatedSize(bytes.subarray(start, stop), budget - total);
    if (total > budget) return true;
  }
}

/**
 * Bytes `data` inflates to, counting stops once past `limit`. Like pdf.js's decoder, bytes after
 * the end of the compressed data are ignored, and what inflates before corrupt or missing data
 * counts (otherwise a bomb with a broken tail would go uncounted).
 */
async function inflatedSize(data: Uint8Array, limit: number): Promise<number> {
  const atOnce = Math.min(limit + 1, AT_ONCE_BYTES);
  try {
    // Z_SYNC_FLUSH (2): a truncated stream yields what it has instead of an error.
    return inflateSync(data, { finishFlush: 2, maxOutputLength: atOnce }).byteLength;
  } catch (error) {
    if (error instanceof RangeError && atOnce > limit) return atOnce;
  }
  // Larger than inflates at once, or corrupt somewhere: count it streamed, chunk by chunk.
  return new Promise((resolve) => {
    const inflate = createInflate({ finishFlush: constants.Z_SYNC_FLUSH });
    let size = 0;
    inflate.on("data", (chunk: Uint8Array) => {
      size += chunk.byteLength;
      if (size > limit) {
        inflate.destroy();
        resolve(size);
      }
    });
    // Corrupt data: what inflated before it is what a decoder would have seen.
    inflate.on("error", () => resolve(size));
    inflate.on("end", () => resolve(size));
    inflate.end(data);
  });
}
