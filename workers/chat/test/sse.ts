/** SSE test helpers for chat: the shared reader plus the shape of chat's `done` event. */
export { dataOf, readSse, type SseFrame } from "@crispy/testing";

export interface DoneEvent {
  turnId: string;
  sessionId: string;
  model: string;
  usage: { promptTokens: number; completionTokens: number; totalTokens: number };
}
