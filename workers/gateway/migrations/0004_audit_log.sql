-- The audit log of administrative actions (docs/audit.md): keys created, revoked and changed,
-- tools and MCP servers changed, documents deleted, tenants erased. Append-only; `seq` is the
-- insertion order, which is what "newest first" pages by (isolates' clocks may disagree by a
-- little; `at` is the acting isolate's time, shown to people). `details` is JSON and never holds
-- a secret, a prompt or a document's text.
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  request_id TEXT NOT NULL,
  details TEXT NOT NULL DEFAULT '{}'
);
-- One tenant's rows newest first (GET /v1/audit) and by time (`at`, for ranges and retention).
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, seq);
CREATE INDEX audit_log_by_tenant_time ON audit_log (tenant_id, at);
