/**
 * `GET /openapi.json` and `GET /docs` — the only files of src/openapi/ in the worker's bundle (the
 * rest builds the document at build time, see document.ts). The document and the renderer are
 * static assets (public/, the ASSETS binding), built by scripts/build-assets.ts; wrangler.jsonc's
 * `assets.run_worker_first` sends these two paths here, so they get a request id, an access-log
 * line and their headers like every route, while the renderer's files are served as assets.
 *
 * The page loads nothing from anywhere else: its CSP allows same-origin scripts, styles, images
 * and fetches only (Swagger UI sets inline styles and uses data: images, hence those two), no
 * framing, no forms.
 */
import { HttpError } from "../http/errors";
import type { Handler } from "../routes/handler";

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Crispy Enigma API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/vendor/swagger-ui.css">
</head>
<body>
<noscript>This page needs JavaScript; the document itself is <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="/docs/vendor/swagger-ui-bundle.js"></script>
<script src="/docs/docs.js"></script>
</body>
</html>
`;

export const DOCS_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The ASSETS binding. Plain workerd (`pnpm bench`, infra/mesh/worker-options.mjs) may run the
 * gateway as a script only — Miniflare's asset router in front of it costs most of its local
 * throughput — and then these two routes say so instead of failing.
 */
function assetsOf(env: GatewayEnv): Fetcher {
  const assets = (env as { ASSETS?: Fetcher }).ASSETS;
  if (!assets) throw new HttpError("not_found", "this gateway runs without its static assets (no ASSETS binding)");
  return assets;
}

export const openApiDocument: Handler = async (request, env) => {
  const asset = await assetsOf(env).fetch(new URL("/openapi.json", request.url));
  if (!asset.ok) {
    // A deployment without its built assets: the gateway's fault, not the caller's.
    throw new HttpError("internal", "the OpenAPI document was not built (run `pnpm --filter @crispy/gateway assets`)");
  }
  return new Response(asset.body, {
    headers: {
      "content-type": "application/json; charset=utf-8",
      // Revalidated on each use (ETag), so a deploy's new document is seen at once.
      "cache-control": "no-cache",
      ...(asset.headers.has("etag") ? { etag: asset.headers.get("etag")! } : {}),
      // A public document: any site's tools may read it.
      "access-control-allow-origin": "*",
      "x-content-type-options": "nosniff",
    },
  });
};

export const docsPage: Handler = (_request, env) => {
  assetsOf(env);
  return new Response(DOCS_HTML, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": DOCS_POLICY,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "x-frame-options": "DENY",
      "cache-control": "no-cache",
    },
  });
};
