/**
 * Builds the gateway's static assets (public/, served as Workers static assets):
 *   public/openapi.json      the OpenAPI 3.1 document (src/openapi/document.ts), checked against
 *                            the OpenAPI 3.1 schema first: an invalid document fails the build
 *   public/docs/vendor/      the Swagger UI renderer for /docs, copied from node_modules/swagger-ui-dist
 * Both are gitignored. Run by wrangler itself before `wrangler dev` and `wrangler deploy` (its
 * `build.command`, so `pnpm dev`, deploys and the dry-run bundles the tests and `pnpm bench` use),
 * and by the gateway's `pnpm test`. By hand: `pnpm --filter @crispy/gateway assets`.
 * Files are written only when their content changed.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";
import { buildOpenApi } from "../src/openapi/document";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const publicDir = join(root, "public");
const vendorDir = join(publicDir, "docs", "vendor");
const swaggerUiDir = dirname(fileURLToPath(import.meta.resolve("swagger-ui-dist/package.json")));
/** The renderer's files /docs loads, and its licence. */
const VENDOR_FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"];

function writeIfChanged(path: string, content: Buffer | string): boolean {
  const bytes = typeof content === "string" ? Buffer.from(content) : content;
  if (existsSync(path) && readFileSync(path).equals(bytes)) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return true;
}

async function main(): Promise<void> {
  const document = buildOpenApi();
  const result = await new Validator().validate(document);
  if (!result.valid) {
    console.error("the OpenAPI document is not valid OpenAPI 3.1:");
    console.error(JSON.stringify(result.errors, null, 2).slice(0, 4000));
    process.exit(1);
  }
  const written: string[] = [];
  const specPath = join(publicDir, "openapi.json");
  if (writeIfChanged(specPath, `${JSON.stringify(document)}\n`)) written.push(specPath);
  for (const file of VENDOR_FILES) {
    const target = join(vendorDir, file);
    const source = readFileSync(join(swaggerUiDir, file));
    if (writeIfChanged(target, source)) written.push(target);
  }
  const size = Buffer.byteLength(JSON.stringify(document));
  const what = written.length > 0 ? `wrote ${written.map((path) => relative(root, path)).join(", ")}` : "up to date";
  console.log(`gateway assets: ${what} (openapi.json ${(size / 1024).toFixed(1)} KiB)`);
}

await main();
