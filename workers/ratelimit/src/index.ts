import { WorkerEntrypoint } from "cloudflare:workers";
export default class RateLimitService extends WorkerEntrypoint<RatelimitEnv> {}
export class RateLimiter {}
export class QuotaLedger {}
