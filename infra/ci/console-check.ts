/**
 * The usage console (`GET /console`) in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core): makes some traffic with a tenant's key (chat turns JSON and streamed, an
 * embeddings call, a 404), waits until `GET /v1/usage` reports it, opens the page, pastes the key,
 * waits for the charts, and checks what a person would see: every chart drawn with data points,
 * the per-key and per-model tables filled, no Content-Security-Policy violation and no script
 * error, the key kept in sessionStorage only. The screenshot goes to .artifacts/console.png and must
 * not be blank: many distinct colours, no single colour covering nearly all of it, and the charts'
 * own colours present.
 *
 * Used by the CI smoke test (`consoleCheck(url, keys)`); by hand against `pnpm dev`:
 *   pnpm exec tsx infra/ci/console-check.ts [http://127.0.0.1:8787] [api key]
 * Needs Chromium: `apt-get install -y chromium` (path: CHROMIUM_PATH, default /usr/bin/chromium).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { chromium } from "playwright-core";

const root = join(import.meta.dirname, "../..");
export const SCREENSHOT = join(root, ".artifacts/console.png");

/** The charts' colours (console-page.ts) that must show up on screen. */
const CHART_COLOURS: Record<string, [number, number, number]> = {
  requests: [0x25, 0x63, 0xeb],
  prompt: [0x7c, 0x3a, 0xed],
  completion: [0x0d, 0x94, 0x88],
};

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`console: ${message}`);
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

/** What the screenshot shows: distinct colours, the most common one's share, pixels near each chart colour. */
export function describePixels(png: Buffer): { distinct: number; topShare: number; colours: Record<string, number> } {
  const { rgba } = decodePng(png);
  const counts = new Map<number, number>();
  const colours: Record<string, number> = Object.fromEntries(Object.keys(CHART_COLOURS).map((name) => [name, 0]));
  const pixels = rgba.length / 4;
  for (let i = 0; i < rgba.length; i += 4) {
    const [r, g, b] = [rgba[i]!, rgba[i + 1]!, rgba[i + 2]!];
    const key = (r << 16) | (g << 8) | b;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    for (const [name, [cr, cg, cb]] of Object.entries(CHART_COLOURS)) {
      if (Math.abs(r - cr) <= 12 && Math.abs(g - cg) <= 12 && Math.abs(b - cb) <= 12) colours[name]! += 1;
    }
  }
  return { distinct: counts.size, topShare: Math.max(...counts.values()) / pixels, colours };
}

async function expectStatus(response: Promise<Response>, status: number, label: string): Promise<Response> {
  const answered = await response;
  if (answered.status !== status) {
    throw new Error(`console: ${label}: expected ${status}, got ${answered.status} ${await answered.text()}`);
  }
  return answered;
}

/**
 * A request, sent again after the `Retry-After` of a 429: the smoke checks before this one share
 * the dev key's per-minute limit, which this check must not trip over.
 */
async function patient(send: () => Promise<Response>): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const response = await send();
    if (response.status !== 429 || attempt === 30) return response;
    await response.body?.cancel();
    const seconds = Number(response.headers.get("retry-after") ?? "1");
    await new Promise((resolve) => setTimeout(resolve, 1000 * (Number.isFinite(seconds) ? seconds : 1)));
  }
}

/** Traffic the charts can show: JSON and streamed chat turns, an embeddings call, a 404. */
async function makeTraffic(baseUrl: string, key: string): Promise<void> {
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const post = (path: string, body: unknown) =>
    patient(() => fetch(`${baseUrl}${path}`, { method: "POST", headers, body: JSON.stringify(body) }));
  for (const message of ["How do lighthouses work?", "Name three tides.", "What is a harbour?"]) {
    await expectStatus(post("/v1/chat", { message, stream: false, tools: false }), 200, "chat turn");
  }
  const streamed = await expectStatus(
    post("/v1/chat", { message: "Stream a short answer.", tools: false }),
    200,
    "stream",
  );
  await streamed.text();
  const models = (await (await patient(() => fetch(`${baseUrl}/v1/models`, { headers }))).json()) as {
    data: Array<{ id: string }>;
  };
  check(models.data.length > 0, "GET /v1/models listed no model");
  await (
    await expectStatus(post("/v1/embeddings", { model: "local/hash-embed-384", input: "tides" }), 200, "embed")
  ).text();
  await (
    await expectStatus(
      patient(() => fetch(`${baseUrl}/v1/sessions/ses_missing`, { headers })),
      404,
      "missing session",
    )
  ).text();
}

/** Waits until today's usage shows the traffic's model calls. */
async function waitForUsage(baseUrl: string, key: string, modelCalls: number): Promise<void> {
  const today = new Date().toISOString().slice(0, 10);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await patient(() =>
      fetch(`${baseUrl}/v1/usage?groupBy=day&from=${today}&to=${today}`, {
        headers: { authorization: `Bearer ${key}` },
      }),
    );
    const body = (await response.json()) as { totals?: { modelCalls: number; requests: number } };
    if (response.ok && (body.totals?.modelCalls ?? 0) >= modelCalls) return;
    check(Date.now() < deadline, `GET /v1/usage did not report the traffic within 20 s: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function consoleCheck(baseUrl: string, keys: Record<string, string>): Promise<void> {
  const key = keys.acme;
  check(key, "no acme key");
  await makeTraffic(baseUrl, key);
  await waitForUsage(baseUrl, key, 5);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    // As root in a closed network: no sandbox, no background connections (they are refused here).
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on("console", (message) => {
      // Chromium logs every 429 as a failed resource; the page waits those out and retries.
      if (/status of 429/.test(message.text())) return;
      if (message.type() === "error" || /Content Security Policy/i.test(message.text())) problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    const response = await page.goto(`${baseUrl}/console`);
    check(response?.status() === 200, `GET /console answered ${response?.status()}`);
    check(
      (response.headers()["content-security-policy"] ?? "").includes("default-src 'none'"),
      "GET /console has no strict Content-Security-Policy",
    );
    await page.fill("#key", key);
    await page.click("button[type=submit]");
    await page.waitForSelector('#root[data-state="loaded"]', { timeout: 20_000 });

    const charts = await page.$$eval(".chart", (nodes) =>
      nodes.map((node) => ({
        title: node.querySelector("h2")?.textContent ?? "",
        points: Number(node.getAttribute("data-points")),
        drawn: node.querySelectorAll("svg .point").length,
      })),
    );
    check(charts.length === 5, `expected 5 charts, found ${charts.length}`);
    for (const chart of charts.filter((c) => !c.title.startsWith("Errors") && !c.title.startsWith("Cost"))) {
      check(chart.points > 0 && chart.drawn === chart.points, `chart "${chart.title}" has no data points`);
    }
    const errors = charts.find((c) => c.title.startsWith("Errors"))!;
    check(errors.points > 0, "the errors chart does not show the 404");
    const tables = await page.$$eval(".table", (nodes) =>
      nodes.map((node) => ({
        title: node.querySelector("h2")?.textContent ?? "",
        rows: [...node.querySelectorAll("tr")].slice(1).map((row) => row.querySelector("td")?.textContent ?? ""),
      })),
    );
    const byModel = tables.find((t) => t.title === "By model");
    check(byModel?.rows.includes("local/echo-1"), `the model table lacks local/echo-1: ${JSON.stringify(byModel)}`);
    const byKey = tables.find((t) => t.title === "By key");
    check(
      byKey && byKey.rows.length > 0 && byKey.rows[0]!.startsWith("key_"),
      `the key table: ${JSON.stringify(byKey)}`,
    );
    const storage = await page.evaluate(() => ({
      session: Object.keys(sessionStorage),
      local: localStorage.length,
      cookie: document.cookie,
    }));
    check(
      storage.session.length === 1 && storage.local === 0 && storage.cookie === "",
      `the key must live in sessionStorage only: ${JSON.stringify(storage)}`,
    );
    check(problems.length === 0, `the page reported errors: ${problems.join(" | ")}`);

    mkdirSync(join(root, ".artifacts"), { recursive: true });
    const png = await page.screenshot({ fullPage: true });
    writeFileSync(SCREENSHOT, png);
    const pixels = describePixels(png);
    check(pixels.distinct >= 32, `the screenshot looks blank: ${pixels.distinct} distinct colours`);
    check(pixels.topShare < 0.9, `the screenshot is ${(pixels.topShare * 100).toFixed(0)}% one colour`);
    for (const [name, count] of Object.entries(pixels.colours)) {
      check(count >= 50, `the ${name} series' colour is not on screen (${count} pixels)`);
    }
    console.log(
      `console: 5 charts (${charts.map((c) => `${c.title.replace(/ per day.*/, "")} ${c.points}`).join(", ")}), ` +
        `screenshot ${SCREENSHOT.slice(root.length + 1)} with ${pixels.distinct} colours, no CSP violation`,
    );
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const url = process.argv[2] ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  const keys = process.argv[3]
    ? { acme: process.argv[3] }
    : (JSON.parse(readFileSync(join(root, ".dev/keys.json"), "utf8")) as Record<string, string>);
  consoleCheck(url, keys).catch((error: Error) => {
    console.error(`console check FAILED: ${error.message}`);
    process.exit(1);
  });
}
