/** Every public route of the gateway, in one table. */
import { Router, type IRequest } from "itty-router";
import { HttpError } from "./http/errors";
import { createTenantKey, listTenantKeys, revokeTenantKey, updateTenantKey } from "./routes/admin-keys";
import { eraseTenantData, tenantErasure } from "./routes/admin-erasure";
import { adminUsage } from "./routes/admin-usage";
import { operatorAudit, tenantAudit } from "./routes/audit";
import { chat } from "./routes/chat";
import { consolePage } from "./routes/console";
import { deleteDocument, getDocument, ingestDocument, ingestJob, listDocuments } from "./routes/documents";
import type { RouteArgs } from "./routes/handler";
import { health } from "./routes/health";
import { listOwnKeys } from "./routes/keys";
import { chatCompletions, models } from "./routes/openai";
import { search } from "./routes/search";
import { deleteSession, listSessions, resetSession, sessionHistory } from "./routes/sessions";
import { meshStatus, tenantSummary } from "./routes/tenant";
import { embeddings } from "./routes/embeddings";
import { speech } from "./routes/speech";
import { mcp } from "./routes/mcp";
import { createMcpServer, deleteMcpServer, listMcpServers, refreshMcpServer } from "./routes/mcp-servers";
import { createTool, deleteTool, executeTool, listTools, replaceTool, toolExec, toolExecutions } from "./routes/tools";
import { usage } from "./routes/usage";
import { docsPage, openApiDocument } from "./openapi/serve";
import { refuseWidgetCredentials } from "./auth/visitor-auth";
import { widgetScript, widgetSession } from "./routes/widget";

// First, before any route: publishable keys and visitor tokens go nowhere but the widget's routes.
export const router = Router<IRequest, RouteArgs>({ before: [refuseWidgetCredentials] });

router
  .get("/health", health)
  .get("/v1/tenant", tenantSummary)
  .get("/v1/mesh", meshStatus)
  .get("/v1/keys", listOwnKeys)
  .get("/v1/audit", tenantAudit)
  .get("/v1/usage", usage)
  .get("/console", consolePage)
  .get("/openapi.json", openApiDocument)
  .get("/docs", docsPage)
  .get("/widget.js", widgetScript)
  .post("/v1/widget/session", widgetSession)
  .post("/v1/chat", chat)
  .post("/v1/chat/completions", chatCompletions)
  .get("/v1/models", models)
  .get("/v1/sessions", listSessions)
  .get("/v1/sessions/:sessionId", sessionHistory)
  .delete("/v1/sessions/:sessionId", deleteSession)
  .post("/v1/sessions/:sessionId/reset", resetSession)
  .post("/v1/documents", ingestDocument)
  .get("/v1/documents", listDocuments)
  .get("/v1/documents/:documentId", getDocument)
  .delete("/v1/documents/:documentId", deleteDocument)
  .get("/v1/ingest/jobs/:jobId", ingestJob)
  .post("/v1/search", search)
  .get("/v1/tools", listTools)
  .post("/v1/tools", createTool)
  .get("/v1/tools/executions", toolExecutions)
  .put("/v1/tools/:name", replaceTool)
  .delete("/v1/tools/:name", deleteTool)
  .post("/v1/tools/:name/execute", executeTool)
  .get("/v1/mcp-servers", listMcpServers)
  .post("/v1/mcp-servers", createMcpServer)
  .delete("/v1/mcp-servers/:name", deleteMcpServer)
  .post("/v1/mcp-servers/:name/refresh", refreshMcpServer)
  .post("/v1/embeddings", embeddings)
  .post("/v1/audio/speech", speech)
  .all("/mcp", mcp)
  // The seeds' paths, kept as aliases.
  .post("/chat", chat)
  .post("/ingest", ingestDocument)
  .post("/search", search)
  .post("/tools/exec", toolExec)
  .get("/chat/:sessionId/history", sessionHistory)
  .delete("/chat/:sessionId", deleteSession)
  .post("/admin/tenants/:tenantId/keys", createTenantKey)
  .get("/admin/tenants/:tenantId/keys", listTenantKeys)
  .patch("/admin/tenants/:tenantId/keys/:keyId", updateTenantKey)
  .delete("/admin/tenants/:tenantId/keys/:keyId", revokeTenantKey)
  .delete("/admin/tenants/:tenantId/data", eraseTenantData)
  .get("/admin/tenants/:tenantId/data", tenantErasure)
  .get("/admin/audit", operatorAudit)
  .get("/admin/usage", adminUsage)
  .all("*", (request: IRequest) => {
    const path = new URL(request.url).pathname;
    const allowed = new Set<string>();
    for (const [method, pattern] of router.routes) {
      if (method !== "ALL" && pattern.test(path)) allowed.add(method);
    }
    if (allowed.size > 0) {
      const allow = [...allowed].sort().join(", ");
      throw new HttpError(
        "method_not_allowed",
        `${request.method} is not allowed on ${path}; allowed: ${allow}`,
        { allowed: [...allowed] },
        { allow },
      );
    }
    throw new HttpError("not_found", `no route for ${request.method} ${path}`);
  });
