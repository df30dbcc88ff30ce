/**
 * The chat widget's demo page (docs/widget.md): a static shop page for acme on its own origin,
 * with the widget's one <script> from the gateway and acme's publishable dev key. `pnpm dev` serves
 * it on DEMO_PORT (default PORT + 1: http://127.0.0.1:8788), the origin that key is bound to;
 * infra/ci/widget-check.ts serves it on other ports too (other origins, other keys).
 *
 * Served with a strict Content-Security-Policy (scripts and connections from the gateway only,
 * styles from this page only), so the demo also shows the widget needs nothing more from a page.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";

const here = import.meta.dirname;
/** The demo documents `pnpm dev` ingests for acme (so the widget has something to cite). */
export const DEMO_DOCUMENTS = [
  { id: "demo-rocket-skates", file: "rocket-skates.md", title: "Acme Rocket Skates: product guide" },
  { id: "demo-anvils", file: "anvils.md", title: "Acme Anvils: care and safety" },
  { id: "demo-returns", file: "returns.md", title: "Returns and refunds" },
].map((doc) => ({
  ...doc,
  url: `https://docs.acme.example/${doc.id.replace(/^demo-/, "")}`,
  text: readFileSync(join(here, "documents", doc.file), "utf8"),
}));

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export interface DemoServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the demo page on 127.0.0.1:`port` (0: any free port) for `gatewayUrl` and the publishable
 * `key` (or the key `key(origin)` gives, read on every page load: a key made for the server's origin).
 */
export function startDemoServer(
  port: number,
  gatewayUrl: string,
  key: string | ((origin: string) => string),
): Promise<DemoServer> {
  const template = readFileSync(join(here, "index.html"), "utf8");
  const css = readFileSync(join(here, "demo.css"));
  const gateway = new URL(gatewayUrl).origin;
  const policy = [
    "default-src 'none'",
    `script-src ${gateway}`,
    `connect-src ${gateway}`,
    "style-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return new Promise((resolve, reject) => {
    let origin = "";
    const server: Server = createServer((request, response) => {
      const path = new URL(request.url ?? "/", "http://demo").pathname;
      if (request.method === "GET" && path === "/") {
        const html = template
          .replaceAll("{{GATEWAY}}", escapeHtml(gateway))
          .replaceAll("{{KEY}}", escapeHtml(typeof key === "string" ? key : key(origin)))
          .replaceAll("{{ORIGIN}}", escapeHtml(origin));
        response.writeHead(200, {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": policy,
          "cache-control": "no-cache",
          "referrer-policy": "no-referrer",
        });
        response.end(html);
      } else if (request.method === "GET" && path === "/demo.css") {
        response.writeHead(200, { "content-type": "text/css; charset=utf-8", "cache-control": "no-cache" });
        response.end(css);
      } else {
        response.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
        response.end("not found");
      }
    });
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      origin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : port}`;
      resolve({ url: origin, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}
