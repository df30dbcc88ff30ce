export * from "./tenant-config";
export * from "./errors";
export * from "./context";
export * from "./ratelimit";
export * from "./api";
