/** The built-in tools, in BUILTIN_TOOLS order (the order they are listed in). */
import { BUILTIN_TOOLS, type BuiltinToolName } from "@crispy/contracts";
import { fileList, fileRead, fileWrite } from "./files";
import { searchDocuments } from "./search";
import { sessionsList } from "./sessions";
import { currentTime } from "./time";
import type { BuiltinTool } from "./types";

const BY_NAME: Record<BuiltinToolName, BuiltinTool> = {
  search_documents: searchDocuments,
  sessions_list: sessionsList,
  file_read: fileRead,
  file_write: fileWrite,
  file_list: fileList,
  current_time: currentTime,
};

export const BUILTINS: readonly BuiltinTool[] = BUILTIN_TOOLS.map((name) => BY_NAME[name]);

export function isBuiltinName(name: string): name is BuiltinToolName {
  return Object.hasOwn(BY_NAME, name);
}

export function builtin(name: BuiltinToolName): BuiltinTool {
  return BY_NAME[name];
}

export type { BuiltinContext, BuiltinTool } from "./types";
