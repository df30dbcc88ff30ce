/**
 * Stands in for the MCP SDK's Ajv validator (`@modelcontextprotocol/sdk/dist/esm/validation/ajv-provider.js`)
 * in the gateway's and the tools worker's bundles, through wrangler's `alias` in their wrangler.jsonc
 * (keyed by the SDK's own relative import, "../validation/ajv-provider.js", which only the SDK's
 * server/index.js and client/index.js make).
 *
 * Why: the SDK's Server and Client import Ajv (+ ajv-formats, fast-uri) for their default
 * validator, ~57 KiB of the gateway's gzipped bundle, yet both workers pass
 * `jsonSchemaValidator: new CfWorkerJsonSchemaValidator()` (Ajv compiles schemas with
 * `new Function`, which workerd forbids anyway). If code ever constructs the SDK without a
 * validator, this throws at once, naming the fix, instead of failing on the first schema.
 */
export class AjvJsonSchemaValidator {
  constructor() {
    throw new Error(
      "Ajv is not bundled in this worker (infra/deploy/shims/no-ajv.ts): pass jsonSchemaValidator: new CfWorkerJsonSchemaValidator() to the MCP SDK's Server or Client",
    );
  }
}
