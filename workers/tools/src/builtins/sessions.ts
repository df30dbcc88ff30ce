/**
 * `sessions_list`: the tenant's recent chat sessions, read through the ToolHost the caller lends
 * (the chat worker or the gateway own sessions; the tools worker binds neither, so the mesh has no
 * cycle). Without a host it fails, saying so.
 */
import { errorMessage } from "@crispy/worker-kit/util";
import { failed, succeeded } from "../outcome";
import type { BuiltinTool } from "./types";

const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 20;

export const sessionsList: BuiltinTool = {
  name: "sessions_list",
  description:
    "List this tenant's most recent chat sessions (id, title, message count, created and updated times), newest first.",
  parameters: () => ({
    type: "object",
    properties: {
      limit: {
        type: "integer",
        minimum: 1,
        maximum: MAX_LIMIT,
        description: `How many sessions to return (default ${DEFAULT_LIMIT}).`,
      },
    },
    additionalProperties: false,
  }),
  async run(input, { host }) {
    if (!host) {
      return failed(
        "sessions_list is unavailable from this caller: sessions are read through the chat worker, and this call came without access to them",
      );
    }
    const limit = typeof input.limit === "number" ? input.limit : DEFAULT_LIMIT;
    try {
      const sessions = await host.listSessions(limit);
      return succeeded(JSON.stringify({ sessions: sessions.slice(0, limit) }));
    } catch (error) {
      return failed(`sessions_list failed: ${errorMessage(error)}`);
    }
  },
};
