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
import { chromium } from "playwright-core";
import { expectNotBlank, type Rgb } from "./png";

const root = join(import.meta.dirname, "../..");
export const SCREENSHOT = join(root, ".artifacts/console.png");

/** The charts' colours (console-page.ts) that must show up on screen. */
const CHART_COLOURS: Record<string, Rgb> = {
  requests: [0x25, 0x63, 0xeb],
  prompt: [0x7c, 0x3a, 0xed],
  completion: [0x0d, 0x94, 0x88],
};

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`console: ${message}`);
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

/** Headless Debian Chromium (CHROMIUM_PATH), with the flags that work here; widget-check.ts uses it too. */
export function launchChromium(): ReturnType<typeof chromium.launch> {
  return chromium.launch({
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
}

export async function consoleCheck(baseUrl: string, keys: Record<string, string>): Promise<void> {
  const key = keys.acme;
  check(key, "no acme key");
  await makeTraffic(baseUrl, key);
  await waitForUsage(baseUrl, key, 5);

  const browser = await launchChromium();
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
    const pixels = expectNotBlank("console", png, CHART_COLOURS);
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
