/** What a built-in tool is: its name, description, input schema (per tenant) and how it runs. */
import type { BuiltinToolName, TenantContext, ToolHost } from "@crispy/contracts";
import type { RunOutcome } from "../outcome";

export interface BuiltinContext {
  env: ToolsEnv;
  tenant: TenantContext;
  /** What the caller lent for data another worker owns (sessions); absent when it lent nothing. */
  host: ToolHost | undefined;
}

export interface BuiltinTool {
  name: BuiltinToolName;
  description: string;
  /** The JSON Schema of the input; some bounds come from the tenant's config. */
  parameters(tenant: TenantContext): Record<string, unknown>;
  /** Runs a call whose input already passed `parameters`. */
  run(input: Record<string, unknown>, context: BuiltinContext): Promise<RunOutcome>;
}
