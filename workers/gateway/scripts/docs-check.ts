/**
 * GET /docs in a real headless Chromium (Debian's `chromium`, driven by playwright-core): the page
 * renders every operation of /openapi.json, loads nothing from another origin (any such request
 * is aborted and fails the check: the page must work offline), and logs no script error or
 * Content-Security-Policy violation. The screenshot goes to .artifacts/docs.png.
 *
 *   pnpm --filter @crispy/gateway docs:check [http://127.0.0.1:8787]     (against `pnpm dev`)
 * Needs Chromium: `apt-get install -y chromium` (path: CHROMIUM_PATH, default /usr/bin/chromium).
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const SCREENSHOT = join(root, ".artifacts/docs.png");
const METHODS = new Set(["get", "post", "put", "patch", "delete"]);

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`docs: ${message}`);
}

export async function docsCheck(baseUrl: string): Promise<void> {
  const spec = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const operations = Object.values(spec.paths).flatMap((item) => Object.keys(item).filter((m) => METHODS.has(m)));
  const origin = new URL(baseUrl).origin;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems: string[] = [];
    const foreign: string[] = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("data:") || new URL(url).origin === origin) return route.continue();
      foreign.push(url);
      return route.abort();
    });
    page.on("console", (message) => {
      if (message.type() === "error" || /Content Security Policy/i.test(message.text())) problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    const response = await page.goto(`${baseUrl}/docs`);
    check(response?.status() === 200, `GET /docs answered ${response?.status()}`);
    await page.waitForSelector(".opblock", { timeout: 20_000 });
    const shown = await page.$$eval(".opblock", (nodes) => nodes.length);
    const summaries = await page.$$eval(".opblock-summary-path", (nodes) => nodes.map((n) => n.textContent ?? ""));
    check(shown === operations.length, `the page shows ${shown} operations; the document has ${operations.length}`);
    check(
      summaries.some((path) => path.includes("/v1/chat")),
      "POST /v1/chat is not on the page",
    );
    // One operation opened: its request body and responses render from their $refs.
    await page.click("#operations-Chat-chat .opblock-summary");
    await page.waitForSelector("#operations-Chat-chat .opblock-body .responses-table", { timeout: 10_000 });
    const opened = (await page.textContent("#operations-Chat-chat .opblock-body")) ?? "";
    check(
      opened.includes("refund window") && opened.includes("429"),
      "POST /v1/chat does not show its example and errors",
    );
    const resolverErrors = await page.$$eval(".errors-wrapper", (nodes) => nodes.map((n) => n.textContent ?? ""));
    check(resolverErrors.length === 0, `the renderer reports errors: ${resolverErrors.join(" | ")}`);
    check(foreign.length === 0, `the page asked another origin for: ${foreign.join(", ")}`);
    check(problems.length === 0, `errors in the page: ${problems.join(" | ")}`);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: false });
    console.log(`docs: ${shown} operations rendered, no foreign request, no error; screenshot ${SCREENSHOT}`);
  } finally {
    await browser.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await docsCheck(process.argv[2] ?? "http://127.0.0.1:8787");
}
