/** `GET /health`: liveness of the gateway itself; no tenant, no auth, no downstream calls. */
import type { Handler } from "./handler";

export const health: Handler = () => ({ status: "ok", service: "crispy-gateway", time: new Date().toISOString() });
