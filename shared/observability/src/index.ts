export * from "./trace";
export * from "./log";
export * from "./spans";
export * from "./tracing";
