/**
 * `file_read`, `file_write`, `file_list`: the tenant's own text files (file-store.ts: R2 under
 * `tenants/<tenantId>/files/`), within the tenant's `tools.fileMaxBytes` and `tools.maxFiles`.
 * A path the store refuses is `validation_failed` naming `path`; a missing file, a file too large
 * or one too many are the tool's own failures (status "error"), so a model can correct itself.
 */
import { TOOL_LIMITS } from "@crispy/contracts";
import { TenantFiles, pathProblem } from "../file-store";
import { failed, invalidField, succeeded } from "../outcome";
import type { BuiltinContext, BuiltinTool } from "./types";

/** Files one `file_list` call returns at most. */
const LIST_MAX = 200;

const PATH_SCHEMA = {
  type: "string",
  minLength: 1,
  maxLength: TOOL_LIMITS.maxPathChars,
  description: 'A relative path with / between folders, e.g. "notes/todo.md" (no leading /, no . or .. segments).',
};

function filesOf({ env, tenant }: BuiltinContext): TenantFiles {
  return new TenantFiles(env.TOOL_FILES, tenant.tenantId);
}

export const fileRead: BuiltinTool = {
  name: "file_read",
  description: "Read one of this tenant's text files: its content, size in bytes and last update.",
  parameters: () => ({
    type: "object",
    properties: { path: PATH_SCHEMA },
    required: ["path"],
    additionalProperties: false,
  }),
  async run(input, context) {
    const path = String(input.path);
    const problem = pathProblem(path);
    if (problem) return invalidField("path", problem);
    const read = await filesOf(context).read(path);
    if (!read) return failed(`file_read: file "${path}" does not exist`);
    return succeeded(JSON.stringify({ ...read.file, content: read.text }));
  },
};

export const fileWrite: BuiltinTool = {
  name: "file_write",
  description:
    "Create or overwrite one of this tenant's text files with the given content (UTF-8). Returns its size and whether it was new.",
  parameters: (tenant) => ({
    type: "object",
    properties: {
      path: PATH_SCHEMA,
      content: {
        type: "string",
        description: `The whole new content; at most ${tenant.config.tools.fileMaxBytes} bytes as UTF-8.`,
      },
    },
    required: ["path", "content"],
    additionalProperties: false,
  }),
  async run(input, context) {
    const path = String(input.path);
    const problem = pathProblem(path);
    if (problem) return invalidField("path", problem);
    const { fileMaxBytes, maxFiles } = context.tenant.config.tools;
    const written = await filesOf(context).write(path, String(input.content), {
      maxBytes: fileMaxBytes,
      maxFiles,
    });
    if (written.ok) return succeeded(JSON.stringify({ ...written.file, created: written.created }));
    if (written.reason === "too_large") {
      return failed(
        `file_write: the content is ${written.bytes} bytes; files may be at most ${written.limit} bytes (tools.fileMaxBytes)`,
      );
    }
    return failed(
      `file_write: this tenant already has ${written.limit} files, the most it may keep (tools.maxFiles); overwrite an existing file instead`,
    );
  },
};

export const fileList: BuiltinTool = {
  name: "file_list",
  description: `List this tenant's files (path, size, last update), by path, optionally only those under a prefix; at most ${LIST_MAX}.`,
  parameters: () => ({
    type: "object",
    properties: {
      prefix: {
        type: "string",
        maxLength: TOOL_LIMITS.maxPathChars,
        description: 'Only paths starting with this, e.g. "notes/". Default: every file.',
      },
    },
    additionalProperties: false,
  }),
  async run(input, context) {
    const prefix = typeof input.prefix === "string" ? input.prefix : "";
    const problem = pathProblem(prefix, { prefix: true });
    if (problem) return invalidField("prefix", problem);
    const listed = await filesOf(context).list(prefix, LIST_MAX);
    return succeeded(JSON.stringify(listed));
  },
};
