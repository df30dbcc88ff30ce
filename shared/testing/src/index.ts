/** @crispy/testing — helpers shared by the workers' test suites (never bundled into a worker). */
export { dataOf, readSse, type SseFrame } from "./sse";
export { failure, unwrap } from "./rpc";
export { LedgerBudget, type LedgerService } from "./budget";
export { contextFor, freshTenantId, MODELS, testConfig, testTenant } from "./context";
