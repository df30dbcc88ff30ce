/**
 * `GET /console`: the usage console (console-page.ts), a static page needing no key to load — the
 * key the user pastes is what its own calls to `GET /v1/usage` carry. Served with a strict
 * Content-Security-Policy: nothing loads but the page itself; its one inline style and one inline
 * script run only because their SHA-256 hashes are listed; it may fetch from this origin only, be
 * framed by nobody, and submit forms nowhere.
 */
import { base64url } from "@crispy/worker-kit/util";
import { CONSOLE_SCRIPT, CONSOLE_STYLE, consoleHtml } from "./console-page";
import type { Handler } from "./handler";

async function hashSource(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  // CSP hashes are standard base64, padded.
  const url = base64url(digest).replace(/-/g, "+").replace(/_/g, "/");
  return `'sha256-${url}${"=".repeat((4 - (url.length % 4)) % 4)}'`;
}

let page: Promise<{ html: string; policy: string }> | null = null;

function built(): Promise<{ html: string; policy: string }> {
  page ??= Promise.all([hashSource(CONSOLE_SCRIPT), hashSource(CONSOLE_STYLE)]).then(([script, style]) => ({
    html: consoleHtml(),
    policy: [
      "default-src 'none'",
      `script-src ${script}`,
      `style-src ${style}`,
      "connect-src 'self'",
      // The page's empty favicon (`data:,`), so the browser asks the gateway for none.
      "img-src data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
  }));
  return page;
}

export const consolePage: Handler = async () => {
  const { html, policy } = await built();
  return new Response(html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": policy,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
      "cache-control": "no-cache",
    },
  });
};
