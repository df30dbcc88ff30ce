/**
 * `search_documents`: the tenant's most relevant document passages for a query, from crispy-rag's
 * hybrid retrieval (`RAG.retrieve`), with what a model needs to cite them (title, document id,
 * chunk id, url, score, the passage text).
 *
 * Why `retrieve` and not `search`: `search` asks a second model to answer from the passages and
 * keeps only the ones that answer cites — tokens no turn budget sees, and fewer passages for the
 * model that called the tool, which writes the answer itself.
 */
import { RETRIEVAL_LIMITS, type RetrievedChunk, type RpcResult } from "@crispy/contracts";
import { errorMessage } from "@crispy/worker-kit/util";
import { failed, succeeded } from "../outcome";
import type { BuiltinTool } from "./types";

/** Characters of one passage handed back (the whole result is cut at TOOL_LIMITS.maxResultChars). */
const PASSAGE_CHARS = 1_200;

export const searchDocuments: BuiltinTool = {
  name: "search_documents",
  description:
    "Search this tenant's documents and return the most relevant passages, best first, each with its " +
    "title, documentId, chunkId, url and score. Cite passages by title (and url when present).",
  parameters: (tenant) => ({
    type: "object",
    properties: {
      query: {
        type: "string",
        minLength: 1,
        maxLength: RETRIEVAL_LIMITS.maxQueryChars,
        description: "What to look for, in natural language or keywords.",
      },
      topK: {
        type: "integer",
        minimum: 1,
        maximum: tenant.config.retrieval.maxTopK,
        description: `How many passages to return (default ${tenant.config.retrieval.defaultTopK}).`,
      },
    },
    required: ["query"],
    additionalProperties: false,
  }),
  async run(input, { env, tenant }) {
    const query = String(input.query).trim();
    if (query === "") return failed("search_documents: the query is empty");
    let found: RpcResult<RetrievedChunk[]>;
    try {
      found = await env.RAG.retrieve(tenant, {
        query,
        ...(typeof input.topK === "number" ? { topK: input.topK } : {}),
      });
    } catch (error) {
      return failed(
        "search_documents: the document index could not be reached; try again later",
        `rag unreachable: ${errorMessage(error)}`,
      );
    }
    if (!found.ok) {
      return failed(
        `search_documents failed: ${found.error.message}`,
        `rag ${found.error.code}: ${found.error.message}`,
      );
    }
    const results = found.value.map((chunk, index) => ({
      n: index + 1,
      title: chunk.title,
      documentId: chunk.docId,
      chunkId: chunk.chunkId,
      url: chunk.url,
      headingPath: chunk.provenance.headingPath,
      score: Math.round(chunk.score * 10_000) / 10_000,
      text: chunk.text.length > PASSAGE_CHARS ? `${chunk.text.slice(0, PASSAGE_CHARS)}…` : chunk.text,
    }));
    return succeeded(JSON.stringify({ query, found: results.length > 0, results }));
  },
};
