/** SSE test helpers for rag: the shared reader plus the shape of a search stream's `done` event. */
import type { SearchSource } from "@crispy/contracts";

export { dataOf, readSse, type SseFrame } from "@crispy/testing";

export interface DoneEvent {
  found: boolean;
  cached: boolean;
  model: string;
  sources: SearchSource[];
}
