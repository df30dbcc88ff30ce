export * from "./tenant-config";
export * from "./errors";
export * from "./context";
export * from "./ratelimit";
export * from "./api";
export * from "./chat";
export * from "./chat-limits";
