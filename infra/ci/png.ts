/**
 * What a screenshot shows, for the smoke checks that drive Chromium (console-check.ts,
 * widget-check.ts): its pixels decoded from the PNG Chromium writes, and a test that it is not
 * blank — many distinct colours, no single colour covering nearly all of it, and the given
 * colours (a chart's series, the widget's accent) on screen.
 */
import { inflateSync } from "node:zlib";

export type Rgb = [number, number, number];

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`png: ${message}`);
}

/** RGBA pixels of an 8-bit, non-interlaced PNG (what Chromium's screenshots are). */
export function decodePng(png: Buffer): { width: number; height: number; rgba: Uint8Array } {
  check(png.subarray(1, 4).toString("latin1") === "PNG", "screenshot is not a PNG");
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.subarray(offset + 4, offset + 8).toString("latin1");
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, colour, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      check(depth === 8 && interlace === 0 && (colour === 2 || colour === 6), "unexpected PNG format");
      channels = colour === 6 ? 4 : 3;
    } else if (type === "IDAT") data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const rgba = new Uint8Array(width * height * 4);
  const previous = new Uint8Array(stride);
  const line = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const source = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? line[x - channels]! : 0;
      const up = previous[x]!;
      const upLeft = x >= channels ? previous[x - channels]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = left;
      else if (filter === 2) predictor = up;
      else if (filter === 3) predictor = (left + up) >> 1;
      else if (filter === 4) {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        predictor = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      }
      line[x] = (source[x]! + predictor) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 4;
      rgba[at] = line[x * channels]!;
      rgba[at + 1] = line[x * channels + 1]!;
      rgba[at + 2] = line[x * channels + 2]!;
      rgba[at + 3] = channels === 4 ? line[x * channels + 3]! : 255;
    }
    previous.set(line);
  }
  return { width, height, rgba };
}

/** What the screenshot shows: distinct colours, the most common one's share, pixels near each of `colours`. */
export function describePixels<K extends string>(
  png: Buffer,
  colours: Record<K, Rgb>,
): { distinct: number; topShare: number; colours: Record<K, number> } {
  const { rgba } = decodePng(png);
  const counts = new Map<number, number>();
  const near = Object.fromEntries(Object.keys(colours).map((name) => [name, 0])) as Record<K, number>;
  const wanted = Object.entries(colours) as Array<[K, Rgb]>;
  const pixels = rgba.length / 4;
  for (let i = 0; i < rgba.length; i += 4) {
    const [r, g, b] = [rgba[i]!, rgba[i + 1]!, rgba[i + 2]!];
    const key = (r << 16) | (g << 8) | b;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    for (const [name, [cr, cg, cb]] of wanted) {
      if (Math.abs(r - cr) <= 12 && Math.abs(g - cg) <= 12 && Math.abs(b - cb) <= 12) near[name] += 1;
    }
  }
  return { distinct: counts.size, topShare: Math.max(...counts.values()) / pixels, colours: near };
}

/**
 * Throws unless the screenshot is not blank: at least `minDistinct` colours, no colour on 90 % of
 * it or more, and at least `minPixels` pixels near each of `colours`. Returns what it saw.
 */
export function expectNotBlank<K extends string>(
  label: string,
  png: Buffer,
  colours: Record<K, Rgb>,
  { minDistinct = 32, minPixels = 50 }: { minDistinct?: number; minPixels?: number } = {},
): ReturnType<typeof describePixels<K>> {
  const pixels = describePixels(png, colours);
  const fail = (message: string) => new Error(`${label}: ${message}`);
  if (pixels.distinct < minDistinct) throw fail(`the screenshot looks blank: ${pixels.distinct} distinct colours`);
  if (pixels.topShare >= 0.9) throw fail(`the screenshot is ${(pixels.topShare * 100).toFixed(0)}% one colour`);
  for (const [name, count] of Object.entries(pixels.colours) as Array<[K, number]>) {
    if (count < minPixels) throw fail(`the ${name} colour is not on screen (${count} pixels)`);
  }
  return pixels;
}
