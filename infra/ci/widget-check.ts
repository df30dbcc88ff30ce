/**
 * The web chat widget (`GET /widget.js`, docs/widget.md) in a real headless Chromium (Debian's
 * `chromium`, driven by playwright-core), against `pnpm dev`:
 * - on the demo page (its own origin, which acme's publishable dev key is bound to; served by
 *   `pnpm dev` under a strict Content-Security-Policy), a visitor opens the widget from the
 *   keyboard, asks about acme's demo documents, and sees the answer stream in token by token, with
 *   citations as links to the cited documents; a reload keeps the conversation and the session;
 *   Markdown from the model is rendered as elements, never as HTML (a script in a message stays
 *   text); Escape closes it; offline, it says so;
 * - the same page on another origin is refused (the widget says the site is not allowed);
 * - a key whose visitor is over its rate, and one whose daily ceiling is spent, get their messages;
 * - the screenshot of the demo goes to .artifacts/widget.png and must not be blank (png.ts).
 *
 * Used by the CI smoke test (`widgetCheck(url, keys)`); by hand against `pnpm dev`:
 *   pnpm exec tsx infra/ci/widget-check.ts [http://127.0.0.1:8787]
 * The demo page is at DEMO_URL, else port + 1 of the gateway's (what `pnpm dev` serves).
 * Needs Chromium: `apt-get install -y chromium` (path: CHROMIUM_PATH, default /usr/bin/chromium).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { startDemoServer } from "../dev/demo/server";
import { launchChromium } from "./console-check";
import { expectNotBlank } from "./png";

const root = join(import.meta.dirname, "../..");
export const SCREENSHOT = join(root, ".artifacts/widget.png");
/** The demo page's accent (infra/dev/demo/demo.css), which the widget's launcher, header and bubbles show. */
const ACCENT: [number, number, number] = [0xc2, 0x41, 0x0c];
const QUESTION = "How long is the warranty on Acme Rocket Skates?";
const FOLLOW_UP = "Does the warranty cover the wheels of the rocket skates?";
/** Words no demo document shares, so the offline model echoes the message, Markdown and markup included. */
const HOSTILE = '<img src=x onerror="window.__pwned=1"> **zzqx** [go](javascript:window.__pwned=2) `qqvx`';

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`widget: ${message}`);
}

/** A call sent again after the `Retry-After` of a 429 (the smoke checks share acme's limits). */
async function patient(send: () => Promise<Response>): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const response = await send();
    if (response.status !== 429 || attempt === 30) return response;
    await response.body?.cancel();
    const seconds = Number(response.headers.get("retry-after") ?? "1");
    await new Promise((resolve) => setTimeout(resolve, 1000 * (Number.isFinite(seconds) ? seconds : 1)));
  }
}

function operatorToken(): string {
  const path = join(root, ".dev/operator-token");
  const token = process.env.OPERATOR_TOKEN ?? (existsSync(path) ? readFileSync(path, "utf8").trim() : "");
  check(token, "no operator token (OPERATOR_TOKEN or .dev/operator-token from pnpm dev)");
  return token;
}

async function operator(baseUrl: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await patient(() =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${operatorToken()}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
  const text = await response.text();
  check(response.ok, `${method} ${path} → ${response.status} ${text}`);
  return JSON.parse(text);
}

/** What the page's widget shows: its state, its status line, and its messages. */
async function widgetView(page: Page) {
  return page.evaluate(() => {
    const host = document.querySelector("crispy-chat") as HTMLElement;
    const shadow = host.shadowRoot!;
    const status = shadow.querySelector(".status") as HTMLElement;
    return {
      state: host.getAttribute("data-state"),
      open: !(shadow.querySelector(".panel") as HTMLElement).hidden,
      status: status.textContent ?? "",
      code: status.dataset.code ?? null,
      messages: [...shadow.querySelectorAll(".msg")].map((m) => ({
        role: m.classList.contains("user") ? "user" : "assistant",
        text: m.querySelector(".bubble")?.textContent ?? "",
        cites: [...m.querySelectorAll(".bubble a.cite")].map((a) => (a as HTMLAnchorElement).href),
        sources: [...m.querySelectorAll(".sources a")].map((a) => (a as HTMLAnchorElement).href),
      })),
    };
  });
}

/** Opens the widget from the keyboard (focus the launcher, Enter) and checks where focus went. */
async function openWithKeyboard(page: Page): Promise<void> {
  await page.locator("crispy-chat .launcher").focus();
  await page.keyboard.press("Enter");
  const focused = await page.evaluate(() => {
    const host = document.querySelector("crispy-chat")!;
    return { host: document.activeElement === host, inner: host.shadowRoot!.activeElement?.tagName ?? null };
  });
  check(
    focused.host && focused.inner === "TEXTAREA",
    `opening the widget should focus its input: ${JSON.stringify(focused)}`,
  );
  check((await widgetView(page)).open, "Enter on the launcher did not open the panel");
}

/** Types a message and sends it with Enter; resolves once the widget is no longer streaming. */
async function ask(page: Page, message: string): Promise<void> {
  await page.locator("crispy-chat textarea").fill(message);
  // Enter starts the turn at once (data-state "streaming", set before the widget's first await).
  await page.keyboard.press("Enter");
  await page.waitForFunction(
    () => document.querySelector("crispy-chat")?.getAttribute("data-state") !== "streaming",
    null,
    { timeout: 30_000 },
  );
}

/** Records the length of the newest assistant bubble at every change, to see tokens arrive one by one. */
async function watchStreaming(page: Page): Promise<void> {
  await page.evaluate(() => {
    const shadow = document.querySelector("crispy-chat")!.shadowRoot!;
    const seen: number[] = [];
    (window as unknown as { __lengths: number[] }).__lengths = seen;
    new MutationObserver(() => {
      const bubbles = shadow.querySelectorAll(".msg.assistant .bubble");
      const length = bubbles[bubbles.length - 1]?.textContent?.length ?? 0;
      if (seen[seen.length - 1] !== length) seen.push(length);
    }).observe(shadow.querySelector(".log")!, { childList: true, subtree: true, characterData: true });
  });
}

function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || /Content Security Policy/i.test(message.text())) problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  return problems;
}

/** The demo page on the allowed origin: the whole visitor journey, then the screenshot. */
async function allowedOrigin(browser: Browser, demoUrl: string, key: string): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems = pageProblems(page);
  const chatSessions: Array<string | null> = [];
  page.on("response", (response) => {
    if (response.url().endsWith("/v1/chat") && response.request().method() === "POST")
      chatSessions.push(response.headers()["x-session-id"] ?? null);
  });
  const response = await page.goto(demoUrl);
  check(response?.status() === 200, `GET ${demoUrl} answered ${response?.status()}`);
  check(
    (response.headers()["content-security-policy"] ?? "").includes("default-src 'none'"),
    "the demo page has no strict Content-Security-Policy",
  );
  await page.waitForSelector("crispy-chat .launcher");
  await openWithKeyboard(page);
  await watchStreaming(page);
  await ask(page, QUESTION);

  let view = await widgetView(page);
  check(view.state === "idle" && view.code === null, `the turn failed: ${view.status}`);
  const answer = view.messages.at(-1)!;
  check(answer.role === "assistant" && /two-year warranty/i.test(answer.text), `the answer: ${answer.text}`);
  const lengths = await page.evaluate(() => (window as unknown as { __lengths: number[] }).__lengths);
  const growing = lengths.filter((length, i) => i === 0 || length > lengths[i - 1]!);
  check(growing.length >= 5, `the answer did not stream in (lengths seen: ${lengths.join(", ")})`);
  check(
    answer.cites.some((href) => href === "https://docs.acme.example/rocket-skates") &&
      answer.sources.includes("https://docs.acme.example/rocket-skates"),
    `the answer has no citation link to the rocket skates guide: ${JSON.stringify(answer)}`,
  );
  console.log(
    `widget: streamed answer (${growing.length} steps) citing ${answer.cites.length} source link(s): ${answer.text.slice(0, 80)}…`,
  );

  // A reload keeps the conversation on screen and the session on the server.
  const stored = await page.evaluate((k) => JSON.parse(localStorage.getItem(`crispy-chat:${k}`) ?? "{}"), key);
  check(typeof stored.sessionId === "string" && stored.sessionId === chatSessions[0], "the session was not stored");
  await page.reload();
  await page.waitForSelector("crispy-chat .launcher");
  view = await widgetView(page);
  check(
    view.messages.filter((m) => m.role === "user").length === 1 && view.messages.at(-1)?.cites.length,
    `the reload lost the conversation: ${JSON.stringify(view.messages)}`,
  );
  await openWithKeyboard(page);
  await ask(page, FOLLOW_UP);
  view = await widgetView(page);
  check(view.code === null && /wheels/.test(view.messages.at(-1)!.text), `the follow-up: ${view.status}`);
  check(
    chatSessions.length === 2 && chatSessions[1] === chatSessions[0],
    `a new session after reload: ${chatSessions}`,
  );
  console.log(`widget: reload kept the conversation and session ${chatSessions[0]}`);

  mkdirSync(join(root, ".artifacts"), { recursive: true });
  const png = await page.screenshot();
  writeFileSync(SCREENSHOT, png);
  const pixels = expectNotBlank("widget", png, { accent: ACCENT });
  console.log(`widget: screenshot ${SCREENSHOT.slice(root.length + 1)} with ${pixels.distinct} colours`);

  // Markdown becomes elements; markup and script URLs stay text.
  await ask(page, HOSTILE);
  const rendered = await page.evaluate(() => {
    const shadow = document.querySelector("crispy-chat")!.shadowRoot!;
    const bubbles = shadow.querySelectorAll(".msg.assistant .bubble");
    const last = bubbles[bubbles.length - 1]!;
    return {
      text: last.textContent ?? "",
      strong: last.querySelector("strong")?.textContent ?? null,
      code: last.querySelector("code")?.textContent ?? null,
      images: shadow.querySelectorAll("img").length + document.querySelectorAll("img").length,
      scriptLinks: shadow.querySelectorAll('a[href^="javascript"]').length,
      pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
    };
  });
  check(
    rendered.strong === "zzqx" && rendered.code === "qqvx" && rendered.text.includes("<img src=x"),
    `Markdown was not rendered as elements: ${JSON.stringify(rendered)}`,
  );
  check(
    rendered.images === 0 && rendered.scriptLinks === 0 && rendered.pwned === null,
    `unsafe: ${JSON.stringify(rendered)}`,
  );
  console.log("widget: Markdown rendered as elements; markup and a javascript: link stayed text");

  // Escape closes the panel and gives focus back to the launcher.
  await page.locator("crispy-chat textarea").focus();
  await page.keyboard.press("Escape");
  const closed = await page.evaluate(() => {
    const shadow = document.querySelector("crispy-chat")!.shadowRoot!;
    return {
      hidden: (shadow.querySelector(".panel") as HTMLElement).hidden,
      focus: shadow.activeElement?.className ?? null,
      expanded: shadow.querySelector(".launcher")?.getAttribute("aria-expanded"),
    };
  });
  check(
    closed.hidden && closed.focus === "launcher" && closed.expanded === "false",
    `Escape: ${JSON.stringify(closed)}`,
  );

  // Offline: the widget says so instead of failing silently.
  await openWithKeyboard(page);
  await context.setOffline(true);
  await page.locator("crispy-chat textarea").fill("Are you there?");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => {
    const status = document.querySelector("crispy-chat")!.shadowRoot!.querySelector(".status") as HTMLElement;
    return status.dataset.code === "offline";
  });
  view = await widgetView(page);
  check(/offline/i.test(view.status), `offline: ${view.status}`);
  await context.setOffline(false);
  console.log(`widget: keyboard open/Escape close; offline → "${view.status}"`);

  check(problems.length === 0, `the demo page reported errors: ${problems.join(" | ")}`);
  await context.close();
}

/** A page on `url` whose widget's first message should end in a refusal the widget explains. */
async function refusal(browser: Browser, url: string, turns: number, expected: { code: string; text: RegExp }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const statuses: number[] = [];
  page.on("response", (response) => {
    if (response.url().includes("/v1/")) statuses.push(response.status());
  });
  await page.goto(url);
  await page.waitForSelector("crispy-chat .launcher");
  await openWithKeyboard(page);
  for (let turn = 0; turn < turns; turn++) await ask(page, `Rocket skates question ${turn + 1}`);
  const view = await widgetView(page);
  await context.close();
  check(
    view.code === expected.code && expected.text.test(view.status),
    `expected a "${expected.code}" message, got "${view.status}" (${view.code}); statuses ${statuses.join(", ")}`,
  );
  return { status: view.status, statuses };
}

export async function widgetCheck(baseUrl: string, keys: Record<string, string>): Promise<void> {
  const key = keys.acme_publishable ?? "";
  check(key.startsWith("pk_"), "no acme_publishable key in .dev/keys.json (pnpm dev makes it)");
  const demoUrl = process.env.DEMO_URL ?? `http://127.0.0.1:${Number(new URL(baseUrl).port) + 1}`;

  const script = await fetch(`${baseUrl}/widget.js`);
  check(script.status === 200, `GET /widget.js answered ${script.status}`);
  check(script.headers.get("content-type")?.startsWith("text/javascript"), "GET /widget.js is not JavaScript");
  const source = Buffer.from(await script.arrayBuffer());
  console.log(`widget: GET /widget.js → ${source.length} bytes, ${gzipSync(source, { level: 9 }).length} gzipped`);

  const browser = await launchChromium();
  const servers: Array<{ close(): Promise<void> }> = [];
  const made: string[] = [];
  try {
    await allowedOrigin(browser, demoUrl, key);

    // The same page and key on an origin the key is not bound to.
    const elsewhere = await startDemoServer(0, baseUrl, key);
    servers.push(elsewhere);
    const refused = await refusal(browser, elsewhere.url, 1, { code: "origin", text: /isn't available on this site/ });
    check(refused.statuses.includes(403), `no 403 for ${elsewhere.url}: ${refused.statuses}`);
    console.log(`widget: ${elsewhere.url} (not the key's origin) → 403, "${refused.status}"`);

    // A visitor over its rate, and a key whose daily ceiling is spent: their own keys, their own origins.
    for (const [label, body, turns, expected] of [
      ["rate", { visitorLimits: { requestsPerMinute: 1, burst: 1 } }, 2, { code: "rate_limited", text: /too quickly/ }],
      ["budget", { limits: { dailyTokens: 1 } }, 1, { code: "budget_exceeded", text: /usage limit/ }],
    ] as const) {
      let pk = "";
      const page = await startDemoServer(0, baseUrl, () => pk);
      servers.push(page);
      const created = (await operator(baseUrl, "POST", "/admin/tenants/acme/keys", {
        kind: "publishable",
        name: `widget check (${label})`,
        scopes: ["chat"],
        origins: [page.url],
        ...body,
      })) as { id: string; key: string };
      made.push(created.id);
      pk = created.key;
      const seen = await refusal(browser, page.url, turns, expected);
      check(seen.statuses.includes(429), `no 429 for the ${label} key: ${seen.statuses}`);
      console.log(`widget: ${label} limit → 429, "${seen.status}"`);
    }
    console.log("widget: passed");
  } finally {
    await browser.close();
    for (const server of servers) await server.close();
    for (const id of made) await operator(baseUrl, "DELETE", `/admin/tenants/acme/keys/${id}`).catch(() => undefined);
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const url = process.argv[2] ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  const keys = JSON.parse(readFileSync(join(root, ".dev/keys.json"), "utf8")) as Record<string, string>;
  widgetCheck(url, keys).catch((error: Error) => {
    console.error(`widget check FAILED: ${error.message}`);
    process.exit(1);
  });
}
