/**
 * retrieval.mjs — ingest throughput and search latency on the local backend, in one tenant.
 *
 * Corpus: synthetic Markdown documents (headings, paragraphs, sentences) drawn from a seeded
 * PRNG over a Zipf-distributed vocabulary, so every run indexes exactly the same text and BM25
 * sees realistic term frequencies. About 42 chunks per document; each size is reached with just
 * enough documents, counted with the ingest worker's own chunker.
 *
 * Ingest: the same documents are (A) parsed, chunked and embedded in this process with the
 * ingest worker's own parser/chunker and the local embedder — the work itself, no platform — and
 * (B) uploaded through the gateway (`POST /v1/documents`, multipart .md, a few in flight) and
 * followed to `done` via `GET /v1/ingest/jobs/:id` — parse, chunk, embed, R2, both Durable
 * Objects, FTS5 and vectors. Throughput = chunks indexed / wall time; ratio B/A.
 *
 * Search: with the index at each size (1k, then 10k chunks), sequential `POST /v1/search` with a
 * fresh query each time (never a cache hit), the same query repeated (KV cache hits), and the
 * platform floor `GET /v1/tenant` (auth + rate limit, no retrieval) in alternating blocks.
 * Needs TypeScript imports (ingest's parser and chunker), so `pnpm bench` runs under tsx.
 */
import { performance } from "node:perf_hooks";

// ---------------------------------------------------------------------------------------------
// Deterministic corpus

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = [
  "ka",
  "lo",
  "mi",
  "ren",
  "sta",
  "vor",
  "qui",
  "del",
  "an",
  "tor",
  "bel",
  "is",
  "mar",
  "on",
  "ful",
  "gre",
  "ith",
  "pan",
  "sol",
  "ue",
  "zen",
  "cal",
  "dro",
  "ny",
];
const VOCABULARY_SIZE = 6000;

function vocabulary(random) {
  const words = new Set();
  while (words.size < VOCABULARY_SIZE) {
    const n = 2 + Math.floor(random() * 3);
    let word = "";
    for (let i = 0; i < n; i++) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    words.add(word);
  }
  return [...words];
}

/** Picks word ranks with a Zipf(1) distribution: a few very common words, a long tail. */
function zipfPicker(size) {
  const cumulative = new Float64Array(size);
  let total = 0;
  for (let i = 0; i < size; i++) cumulative[i] = total += 1 / (i + 1);
  return (random) => {
    const target = random() * total;
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export function corpus(seed = 42) {
  const words = vocabulary(mulberry32(seed));
  const pick = zipfPicker(words.length);
  const queryRandom = mulberry32(seed + 1);
  return {
    /** Document `i` (the same text in every run): a title and 8 sections of 6 paragraphs. */
    document(i) {
      const random = mulberry32(seed * 100_003 + i + 2);
      const word = () => words[pick(random)];
      const sentence = () => {
        const parts = Array.from({ length: 8 + Math.floor(random() * 14) }, word);
        parts[0] = parts[0][0].toUpperCase() + parts[0].slice(1);
        return `${parts.join(" ")}.`;
      };
      const paragraph = () => Array.from({ length: 3 + Math.floor(random() * 5) }, sentence).join(" ");
      const lines = [`# Field notes ${i}: ${word()} ${word()}`, ""];
      for (let s = 0; s < 8; s++) {
        lines.push(`## ${word()} ${word()} ${word()}`, "");
        for (let p = 0; p < 6; p++) lines.push(paragraph(), "");
      }
      return lines.join("\n");
    },
    /** A query of 2–4 mid-frequency words (skipping the most common ranks, as people do). */
    query() {
      const n = 2 + Math.floor(queryRandom() * 3);
      return Array.from({ length: n }, () => words[50 + Math.floor(queryRandom() * 2000)]).join(" ");
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function latencyStats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Ingest

/** (A) the ingest work in this process: parse → chunk → embed, as the IngestJob does it. */
async function ingestInProcess(documents) {
  const { parseDocument } = await import("../../workers/ingest/src/parse/index.ts");
  const { chunkDocument } = await import("../../workers/ingest/src/chunk.ts");
  const { embeddingInput } = await import("../../workers/ingest/src/pipeline.ts");
  const { createLocalProvider } = await import("../../shared/ai/src/index.ts");
  const provider = createLocalProvider({ tokenDelayMs: 0 });
  const meta = { tenantId: "bench", requestId: "bench", gatewayId: "bench" };
  const encoder = new TextEncoder();
  let chunks = 0;
  const started = performance.now();
  for (const [i, text] of documents.entries()) {
    const parsed = await parseDocument("markdown", encoder.encode(text));
    if (!parsed.ok) throw new Error(`in-process parse failed: ${parsed.error.message}`);
    const docChunks = chunkDocument(parsed.value, { docId: `doc-${i}`, version: 1 });
    const title = parsed.value.title ?? "";
    for (let b = 0; b < docChunks.length; b += 32) {
      const batch = docChunks.slice(b, b + 32);
      await provider.embed(
        {
          model: "local/hash-embed-384",
          dimensions: 384,
          texts: batch.map((c) => embeddingInput(title, c.provenance.headingPath, c.text)),
        },
        meta,
      );
    }
    chunks += docChunks.length;
  }
  const seconds = (performance.now() - started) / 1000;
  return { documents: documents.length, chunks, seconds, chunksPerSecond: chunks / seconds };
}

async function jsonOf(response, what) {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what} → ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * fetch, retried once when the connection itself fails (undici reusing a keep-alive socket the
 * server has just closed: "fetch failed", cause "other side closed"). Safe here: an upload of the
 * same id and content is idempotent (content hash), and the other calls only read.
 */
async function fetchOnceMore(url, init) {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return await fetch(url, init);
  }
}

/** (B) through the mesh: upload, then follow each job to a terminal state. */
async function ingestThroughMesh({ url, headers }, documents, firstIndex, inFlight) {
  let next = 0;
  let chunks = 0;
  const failures = [];
  const started = performance.now();
  async function worker() {
    while (next < documents.length) {
      const i = next++;
      const form = new FormData();
      form.set("id", `bench-doc-${firstIndex + i}`);
      form.set("file", new Blob([documents[i]], { type: "text/markdown" }), `notes-${firstIndex + i}.md`);
      let job = await jsonOf(
        await fetchOnceMore(`${url}/v1/documents?wait=true`, { method: "POST", headers, body: form }),
        "POST /v1/documents",
      );
      while (job.state === "queued" || job.state === "running") {
        await new Promise((r) => setTimeout(r, 20));
        job = await jsonOf(
          await fetchOnceMore(`${url}/v1/ingest/jobs/${job.id}`, { headers }),
          "GET /v1/ingest/jobs/:id",
        );
      }
      if (job.state !== "done") failures.push(`${job.docId}: ${job.state} ${JSON.stringify(job.error)}`);
      chunks += job.chunksTotal;
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - started) / 1000;
  if (failures.length)
    throw new Error(`ingest failed for ${failures.length} document(s): ${failures.slice(0, 3).join("; ")}`);
  return { documents: documents.length, chunks, seconds, chunksPerSecond: chunks / seconds };
}

// ---------------------------------------------------------------------------------------------
// Search

async function timed(request) {
  const started = performance.now();
  const response = await fetchOnceMore(request.url, request.init);
  const body = await response.text();
  const elapsed = performance.now() - started;
  if (!response.ok)
    throw new Error(`${request.init.method ?? "GET"} ${request.url} → ${response.status}: ${body.slice(0, 300)}`);
  return { elapsed, body };
}

async function measureSearch({ url, headers }, text, samples, rounds) {
  const json = { ...headers, "content-type": "application/json" };
  const search = (query) => ({
    url: `${url}/v1/search`,
    init: { method: "POST", headers: json, body: JSON.stringify({ query, topK: 5 }) },
  });
  const floor = { url: `${url}/v1/tenant`, init: { headers } };
  const repeated = search(text.query());
  const first = JSON.parse((await timed(repeated)).body);
  if (!Array.isArray(first.sources))
    throw new Error(`POST /v1/search answered without sources: ${JSON.stringify(first).slice(0, 300)}`);
  for (let i = 0; i < 10; i++) {
    await timed(floor);
    await timed(search(text.query()));
  }
  const out = { floor: [], uncached: [], cached: [] };
  let found = 0;
  let cachedHits = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < samples; i++) out.floor.push((await timed(floor)).elapsed);
    for (let i = 0; i < samples; i++) {
      const { elapsed, body } = await timed(search(text.query()));
      out.uncached.push(elapsed);
      if (JSON.parse(body).found) found++;
    }
    for (let i = 0; i < samples; i++) {
      const { elapsed, body } = await timed(repeated);
      out.cached.push(elapsed);
      if (JSON.parse(body).cached) cachedHits++;
    }
  }
  return {
    floor: latencyStats(out.floor),
    uncached: latencyStats(out.uncached),
    cached: latencyStats(out.cached),
    foundRate: found / out.uncached.length,
    cacheHitRate: cachedHits / out.cached.length,
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * Grows one tenant's index to each size in `sizes` (chunks), measuring ingest on the way and
 * search at each size.
 * @param {{ url: string, apiKey: string, sizes: number[], samples: number, rounds: number, inFlight: number, log: (s: string) => void }} options
 */
export async function measureRetrieval({ url, apiKey, sizes, samples, rounds, inFlight, log }) {
  const headers = { authorization: `Bearer ${apiKey}`, "cf-connecting-ip": "127.0.0.1" };
  const text = corpus();
  const target = { url, headers };
  const { parseDocument } = await import("../../workers/ingest/src/parse/index.ts");
  const { chunkDocument } = await import("../../workers/ingest/src/chunk.ts");
  const chunkCount = async (markdown) => {
    const parsed = await parseDocument("markdown", new TextEncoder().encode(markdown));
    if (!parsed.ok) throw new Error(`corpus document does not parse: ${parsed.error.message}`);
    return chunkDocument(parsed.value, { docId: "count", version: 1 }).length;
  };
  const result = { ingest: [], search: [] };
  let documents = 0;
  let chunks = 0;
  for (const size of sizes) {
    // Just enough documents to reach `size` chunks, counted with the ingest worker's own chunker.
    const batch = [];
    for (let planned = chunks; planned < size; ) {
      const markdown = text.document(documents + batch.length);
      planned += await chunkCount(markdown);
      batch.push(markdown);
    }
    log(
      `  ingest: ${batch.length} documents toward ${size} chunks — in-process, then through the mesh (${inFlight} in flight) …`,
    );
    const inProcess = await ingestInProcess(batch);
    const mesh = await ingestThroughMesh(target, batch, documents, inFlight);
    if (mesh.chunks !== inProcess.chunks)
      throw new Error(`the mesh indexed ${mesh.chunks} chunks, in-process chunking made ${inProcess.chunks}`);
    documents += batch.length;
    chunks += mesh.chunks;
    result.ingest.push({ upTo: chunks, inProcess, mesh, ratio: mesh.chunksPerSecond / inProcess.chunksPerSecond });
    log(
      `  search at ${chunks} chunks: ${rounds} round(s) × ${samples} sequential samples each of floor / uncached / cached …`,
    );
    result.search.push({ chunks, documents, ...(await measureSearch(target, text, samples, rounds)) });
  }
  return result;
}
