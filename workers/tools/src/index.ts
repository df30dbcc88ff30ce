/**
 * crispy-tools: internal only (no public routes); the gateway and its sibling workers call it over
 * RPC with the resolved TenantContext first. Its registry and execution arrive with their own
 * issue; today it answers the kit's `ping`, so the mesh can be checked end to end.
 */
import { InternalEntrypoint } from "@crispy/worker-kit";

export default class ToolsService extends InternalEntrypoint<ToolsEnv> {
  protected readonly worker = "tools";
}
