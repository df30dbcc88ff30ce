export * from "./trace";
export * from "./log";
